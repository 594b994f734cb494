import test from 'ava';
import { map, of, toArray } from 'rxjs';
import { CURLE, type CurlError, type Settled, TransferQueue } from '../../src/index.js';
import { createTestCurl } from '../../src/testing/index.js';
import { marbles } from '../helpers/marbles.js';

const describe = (s: Settled) =>
  s.error ? `${s.index}:${s.error.codeName}` : `${s.index}:${s.response.status}`;

test('requestAll() with a queue: per-host limits and round robin between hosts, one Settled per request', (t) => {
  const scheduler = marbles(t);
  const starts: string[] = [];
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route(/\.test\//, (request) => {
      starts.push(`${scheduler.now()} ${new URL(request.url).host}`);
      return cold('--r', { r: { status: 200, body: 'ok' } });
    });
    const queue = new TransferQueue({ scheduler, concurrency: 2, perHost: { concurrency: 1 } });
    const urls = ['a', 'a', 'a', 'a', 'b', 'b'].map((host, i) => `http://${host}.test/${i}`);
    expectObservable(curl.requestAll(urls, { queue }).pipe(map(describe), toArray())).toBe('--------(x|)', {
      x: ['0:200', '4:200', '1:200', '5:200', '2:200', '3:200'],
    });
  });
  t.deepEqual(starts, ['0 a.test', '0 b.test', '2 a.test', '2 b.test', '4 a.test', '6 a.test']);
});

test('requestAll() with a queue: a transient failure is retried at the queue and settles once', (t) => {
  const scheduler = marbles(t);
  let attempts = 0;
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route('http://a.test/flaky', () =>
      ++attempts === 1
        ? cold('-e', { e: { error: CURLE.COULDNT_CONNECT } })
        : cold('-r', { r: { status: 200 } }),
    );
    curl.route('http://a.test/gone', cold('-e', { e: { error: CURLE.REMOTE_ACCESS_DENIED } }));
    const queue = new TransferQueue({ scheduler, retry: { count: 2, baseDelayMs: 50 } });
    expectObservable(
      curl.requestAll(['http://a.test/flaky', 'http://a.test/gone'], { queue }).pipe(map(describe)),
    ).toBe('-b 50ms (a|)', { a: '0:200', b: '1:CURLE_REMOTE_ACCESS_DENIED' });
  });
  t.is(attempts, 2);
});

test('requestAll() with a queue: a 429 with Retry-After pauses its host; the other host goes on', (t) => {
  const scheduler = marbles(t);
  const starts: string[] = [];
  scheduler.run(({ cold }) => {
    const curl = createTestCurl({ scheduler });
    curl.route(/\.test\//, (request) => {
      starts.push(`${scheduler.now()} ${new URL(request.url).pathname}`);
      return request.url.endsWith('/a1')
        ? cold('-r', { r: { status: 429, headers: { 'retry-after': '2' } } })
        : cold('-r', { r: { status: 200 } });
    });
    const queue = new TransferQueue({ scheduler, perHost: { concurrency: 1 } });
    const urls = ['http://a.test/a1', 'http://a.test/a2', 'http://b.test/b1', 'http://b.test/b2'];
    curl.requestAll(urls, { queue }).subscribe();
  });
  t.deepEqual(starts, ['0 /a1', '0 /b1', '1 /b2', '2001 /a2']);
});

test('requestAll() and schedule() on one queue share its global limit', (t) => {
  const scheduler = marbles(t);
  let most = 0;
  let running = 0;
  scheduler.run(({ cold }) => {
    const curl = createTestCurl({ scheduler });
    curl.route(/\.test\//, () => {
      most = Math.max(most, ++running);
      return cold('---r', { r: { status: 200 } });
    });
    curl.results$.subscribe(() => running--);
    const queue = new TransferQueue<string>({ scheduler, concurrency: 3 });
    const urls = (host: string) => Array.from({ length: 5 }, (_, i) => `http://${host}.test/${i}`);
    curl.requestAll(urls('a'), { queue }).subscribe();
    of(...urls('b'))
      .pipe(queue.schedule((url) => curl.request(url)))
      .subscribe();
  });
  t.is(most, 3);
});

test('requestAll() with a queue: unsubscribing cancels, drops, and leaves no transfer, queue item or timer', (t) => {
  const scheduler = marbles(t);
  const curl = createTestCurl({ scheduler });
  const queue = new TransferQueue({ scheduler, concurrency: 2, perHost: { minDelayMs: 10 } });
  scheduler.run(({ cold, expectObservable }) => {
    curl.route(/\.test\//, cold('-----r', { r: { status: 200 } }));
    const urls = Array.from({ length: 6 }, (_, i) => `http://h${i % 2}.test/${i}`);
    expectObservable(curl.requestAll(urls, { queue }).pipe(map(describe)), '--!').toBe('--');
  });
  t.is(curl.stats().transfers, 0);
  t.deepEqual(queue.stats(), { queued: 0, active: 0, done: 0, failed: 0, retried: 0, hosts: {} });
  t.is(scheduler.actions.length, 0);
});

test('requestAll() with a queue reads the source at most `lookahead` ahead of what settled', (t) => {
  const scheduler = marbles(t);
  const pulled: number[] = [];
  scheduler.run(({ cold }) => {
    const curl = createTestCurl({ scheduler });
    curl.route(/\.test\//, cold('-r', { r: { status: 200 } }));
    function* requests() {
      for (let i = 0; i < 6; i++) {
        pulled.push(scheduler.now());
        yield `http://a.test/${i}`;
      }
    }
    const queue = new TransferQueue({ scheduler, concurrency: 1, lookahead: 2 });
    curl.requestAll(requests(), { queue }).subscribe();
  });
  t.deepEqual(pulled, [0, 0, 1, 2, 3, 4]);
});

test('requestAll(): a queue that is not a TransferQueue, or a concurrency beside a queue, is INVALID_INPUT', (t) => {
  const curl = createTestCurl();
  const errors: CurlError[] = [];
  curl.requestAll([], { queue: {} as TransferQueue<string> }).subscribe({ error: (e) => errors.push(e) });
  curl
    .requestAll([], { queue: new TransferQueue(), concurrency: 4 })
    .subscribe({ error: (e) => errors.push(e) });
  t.deepEqual(
    errors.map((e) => [e.code, e.message]),
    [
      ['INVALID_INPUT', 'invalid request: queue must be a TransferQueue'],
      [
        'INVALID_INPUT',
        "invalid request: concurrency cannot go with a queue: the queue's concurrency applies",
      ],
    ],
  );
});
