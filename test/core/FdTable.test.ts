import test from 'ava';
import { FdTable } from '../../src/core/FdTable.js';

test('values by fd: set, replace, delete, and a size that counts each fd once', (t) => {
  const table = new FdTable<string>();
  table.set(7, 'a');
  table.set(3, 'b');
  table.set(7, 'c'); // replaced, not added
  t.is(table.size, 2);
  t.is(table.get(7), 'c');
  t.true(table.has(3));
  t.false(table.has(4));
  t.is(table.get(1000), undefined);
  t.true(table.delete(3));
  t.false(table.delete(3));
  t.false(table.delete(12));
  t.is(table.size, 1);
  t.deepEqual(table.clear(), ['c']);
  t.is(table.size, 0);
  t.false(table.has(7));
  table.set(7, 'again'); // a number that comes back is a new entry
  t.is(table.size, 1);
});
