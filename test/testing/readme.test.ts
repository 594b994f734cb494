// The four examples of the README's "Testing your pipelines", exactly as printed there.
import test from 'ava';
import { filter, from, map, mergeMap, takeUntil } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ensureOk, retryTransient, TransferQueue } from '../../src/index.js';
import { createTestCurl } from '../../src/testing/index.js';

test('a retry with backoff', (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    let attempts = 0;
    // Two 503s, then the data; each answer takes 1 ms.
    curl.route('GET http://api.test/items', () =>
      ++attempts < 3 ? cold('-r', { r: { status: 503 } }) : cold('-r', { r: { status: 200, body: '[1,2]' } }),
    );

    const items$ = curl.request('http://api.test/items').pipe(
      ensureOk(),
      retryTransient({ count: 3, baseDelayMs: 10, maxDelayMs: 1000, scheduler }),
      map((response) => response.json()),
    );

    // 503 at 1 ms, wait 10; 503 at 12 ms, wait 20; 200 at 33 ms.
    expectObservable(items$).toBe('33ms (a|)', { a: [1, 2] });
  });
});

test('a concurrency-limited crawl', (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route(/^http:\/\/site\.test\//, (req) =>
      cold('10ms r', { r: { status: 200, body: req.url.slice(-1) } }),
    );
    const pages = ['a', 'b', 'c', 'd'].map((p) => `http://site.test/${p}`);

    const crawl$ = from(pages).pipe(mergeMap((url) => curl.request(url).pipe(map((r) => r.text())), 2));

    // Two at a time: a and b answer at 10 ms, c and d at 20 ms.
    expectObservable(crawl$).toBe('10ms (ab) 6ms (cd|)');
  });
});

test('a cancellation by takeUntil', (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
    const curl = createTestCurl({ scheduler });
    const body = cold('10ms a 9ms b 9ms c|');
    curl.route('http://files.test/big', cold('r', { r: { status: 200, body } }));
    const stop$ = hot('25ms s');

    const chunks$ = curl.transfer('http://files.test/big').pipe(
      filter((event) => event.type === 'data'),
      map((event) => event.chunk.toString()),
      takeUntil(stop$),
    );

    expectObservable(chunks$).toBe('10ms a 9ms b 4ms |');
    expectSubscriptions(body.subscriptions).toBe('^ 24ms !'); // the transfer was cancelled at 25 ms
  });
});

test('a polite crawl through a TransferQueue', (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route(/\.test\//, (req) => cold('5ms r', { r: { status: 200, body: req.url } }));
    const queue = new TransferQueue<string>({ scheduler, perHost: { concurrency: 1, minDelayMs: 10 } });
    const urls = ['http://a.test/1', 'http://a.test/2', 'http://b.test/1'];

    const pages$ = from(urls).pipe(queue.schedule((url) => curl.request(url).pipe(map((r) => r.text()))));

    // a.test/1 and b.test/1 start at once and answer at 5 ms; a.test/2 waits for a.test's
    // 10 ms delay between starts, and answers at 15 ms.
    expectObservable(pages$).toBe('5ms (ab) 6ms (c|)', {
      a: 'http://a.test/1',
      b: 'http://b.test/1',
      c: 'http://a.test/2',
    });
  });
});
