import test from 'ava';
import { lastValueFrom, map, Subject, toArray } from 'rxjs';
import { CURLE, type CurlRequest, type Settled } from '../../src/index.js';
import { createTestCurl } from '../../src/testing/index.js';
import { marbles } from '../helpers/marbles.js';
import { delay, useCurl, useServer, waitFor } from '../helpers/servers.js';

/** 'index:status:body' or 'index:CODE_NAME'. */
const describe = (s: Settled) =>
  s.error ? `${s.index}:${s.error.codeName}` : `${s.index}:${s.response.status}:${s.response.text()}`;

test('marbles: one Settled per request in completion order, failures as values, then completion', (t) => {
  const scheduler = marbles(t);
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route('http://x.test/slow', cold('----r', { r: { status: 200, body: 'slow' } }));
    curl.route('http://x.test/fast', cold('-r', { r: { status: 404, body: 'fast' } }));
    curl.route('http://x.test/broken', cold('--e', { e: { error: CURLE.RECV_ERROR } }));
    const requests = [
      'http://x.test/slow',
      'http://x.test/fast',
      'http://x.test/broken',
      'http://x.test/none',
    ];
    expectObservable(curl.requestAll(requests).pipe(map(describe))).toBe('dab-(c|)', {
      a: '1:404:fast',
      b: '2:CURLE_RECV_ERROR',
      c: '0:200:slow',
      d: '3:CURLE_COULDNT_CONNECT',
    });
  });
});

test('marbles: an Iterable is pulled only as capacity frees, and at most `concurrency` run at once', (t) => {
  const scheduler = marbles(t);
  const pulled: number[] = [];
  let inFlight = 0;
  let most = 0;
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route(/x\.test/, () => {
      inFlight++;
      most = Math.max(most, inFlight);
      return cold('--r', { r: { status: 200, body: 'ok' } });
    });
    curl.results$.subscribe(() => inFlight--);
    function* requests() {
      for (let i = 0; i < 5; i++) {
        pulled.push(scheduler.now());
        yield `http://x.test/${i}`;
      }
    }
    // Two settle at frame 2, two at 4, the last at 6.
    const settled = curl.requestAll(requests(), { concurrency: 2 }).pipe(
      map((s) => `${scheduler.now()}:${s.index}`),
      toArray(),
    );
    expectObservable(settled).toBe('------(a|)', { a: ['2:0', '2:1', '4:2', '4:3', '6:4'] });
  });
  t.deepEqual(pulled, [0, 0, 2, 2, 4], 'an item is read when a slot frees, not before');
  t.is(most, 2);
});

test('marbles: an Observable source is queued as it pushes; unsubscribing cancels what runs and stops the source', (t) => {
  const scheduler = marbles(t);
  scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
    const curl = createTestCurl({ scheduler });
    const script = cold('---r', { r: { status: 200, body: 'ok' } });
    curl.route(/x\.test/, script);
    const source = hot('a-b-c-d', {
      a: 'http://x.test/a',
      b: 'http://x.test/b',
      c: 'http://x.test/c',
      d: 'http://x.test/d',
    });
    expectObservable(curl.requestAll(source, { concurrency: 1 }).pipe(map((s) => s.index)), '^----!').toBe(
      '---a',
      { a: 0 },
    );
    expectSubscriptions(source.subscriptions).toBe('^----!');
    // The first transfer runs frames 0-3; the second starts at 3 and is cancelled at 5.
    expectSubscriptions(script.subscriptions).toBe(['^--!', '---^-!']);
  });
});

test('marbles: invalid requests settle as INVALID_INPUT errors without stopping the others', (t) => {
  const scheduler = marbles(t);
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route('http://x.test/ok', cold('-----r', { r: { status: 204 } }));
    const requests: Array<CurlRequest | string> = [
      'not a url',
      { url: 'http://x.test/ok' },
      { url: 'http://x.test/ok', timeoutMs: -1 },
    ];
    expectObservable(curl.requestAll(requests).pipe(map(describe))).toBe('(ac)-(b|)', {
      a: '0:INVALID_INPUT',
      b: '1:204:',
      c: '2:INVALID_INPUT',
    });
  });
});

test('marbles: a source that errors errors the output, as with mergeMap', (t) => {
  const scheduler = marbles(t);
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route(/x\.test/, cold('-r', { r: { status: 200 } }));
    const source = cold('a-#', { a: 'http://x.test/a' }, new Error('list unreadable'));
    expectObservable(curl.requestAll(source).pipe(map((s) => s.index))).toBe(
      '-a#',
      { a: 0 },
      new Error('list unreadable'),
    );
  });
});

test('real libcurl: 200 requests from an AsyncIterable, never more than `concurrency` at the server, bodies intact', async (t) => {
  let atServer = 0;
  let most = 0;
  const server = await useServer(t, (req, res) => {
    atServer++;
    most = Math.max(most, atServer);
    setTimeout(() => {
      atServer--;
      res.end(`body of ${req.url}`);
    }, 2);
  });
  const curl = useCurl(t);
  async function* requests() {
    for (let i = 0; i < 200; i++)
      yield i % 10 === 9 ? `http://127.0.0.1:1/refused-${i}` : `${server.url}/${i}`;
  }
  const settled = await lastValueFrom(curl.requestAll(requests(), { concurrency: 8 }).pipe(toArray()));
  t.is(settled.length, 200);
  t.deepEqual(
    settled.map((s) => s.index).sort((a, b) => a - b),
    Array.from({ length: 200 }, (_, i) => i),
  );
  for (const s of settled) {
    if (s.index % 10 === 9) {
      t.is(s.error?.code, CURLE.COULDNT_CONNECT, `request ${s.index}`);
    } else {
      t.is(s.response?.status, 200);
      t.is(s.response?.text(), `body of /${s.index}`);
      t.is(s.request, `${server.url}/${s.index}`);
    }
  }
  t.true(most <= 8, `at most 8 at once at the server, saw ${most}`);
  t.true(most >= 2, 'they did run in parallel');
  t.deepEqual(curl.stats().transfers, 0);
});

test('real libcurl: unsubscribing cancels the transfers in flight; the server sees them closed', async (t) => {
  const closed = new Subject<void>();
  let started = 0;
  const server = await useServer(t, (req, res) => {
    started++;
    res.writeHead(200);
    res.write('partial');
    req.socket.once('close', () => closed.next());
  });
  const curl = useCurl(t);
  let closes = 0;
  closed.subscribe(() => closes++);
  const urls = Array.from({ length: 10 }, (_, i) => `${server.url}/${i}`);
  const seen: Settled[] = [];
  const subscription = curl.requestAll(urls, { concurrency: 3 }).subscribe((s) => seen.push(s));
  await waitFor(() => started === 3, 'three transfers at the server');
  await delay(20);
  t.is(started, 3, 'no more than the concurrency started');
  subscription.unsubscribe();
  await waitFor(() => closes === 3, 'the three connections closed');
  t.deepEqual(seen, []);
  t.is(curl.stats().transfers, 0);
});
