import test from 'ava';
import { DenseList, type Listed } from '../../src/core/DenseList.js';

const item = (name: string): Listed & { name: string } => ({ name, listIndex: -1 });

test('add, has and delete keep every item findable, whatever order they leave in', (t) => {
  const list = new DenseList<ReturnType<typeof item>>();
  const items = ['a', 'b', 'c', 'd', 'e'].map(item);
  for (const x of items) list.add(x);
  t.is(list.size, 5);
  // From the middle, the end and the start: the last item moves into each freed place.
  for (const gone of [items[2]!, items[4]!, items[0]!]) {
    t.true(list.delete(gone));
    t.false(list.has(gone));
    t.is(gone.listIndex, -1);
  }
  t.is(list.size, 2);
  t.true(list.has(items[1]!));
  t.true(list.has(items[3]!));
  t.deepEqual(
    list
      .clear()
      .map((x) => x.name)
      .sort(),
    ['b', 'd'],
  );
  t.is(list.size, 0);
  t.false(list.has(items[1]!));
});

test('a second delete, or one of an item never listed, changes nothing', (t) => {
  const list = new DenseList<ReturnType<typeof item>>();
  const [a, b] = [item('a'), item('b')];
  list.add(a);
  list.add(b);
  t.true(list.delete(a));
  t.false(list.delete(a));
  t.false(list.delete(item('stranger')));
  // An object that only claims an index held by another is not a member.
  t.false(list.has({ listIndex: b.listIndex }));
  t.true(list.has(b));
  t.is(list.size, 1);
});

test('an item in two lists is a member of the list that holds it at its index', (t) => {
  const first = new DenseList<ReturnType<typeof item>>();
  const second = new DenseList<ReturnType<typeof item>>();
  const a = item('a');
  first.add(item('x'));
  first.add(a); // index 1 in `first`
  t.false(second.has(a));
  t.true(first.has(a));
});
