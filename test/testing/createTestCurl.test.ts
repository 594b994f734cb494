import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { lastValueFrom, map, type Observable, of } from 'rxjs';
import { CurlError, ensureOk, HttpError, type TransferEvent, type TransferResult } from '../../src/index.js';
import { createTestCurl } from '../../src/testing/index.js';
import { marbles } from '../helpers/marbles.js';

const eventTypes = (source: Observable<TransferEvent>) =>
  source.pipe(map((e) => (e.type === 'data' ? `data:${e.chunk.toString()}` : e.type)));

test('transfer(): response on the frame the script answers, then timed data, then done', (t) => {
  const scheduler = marbles(t);
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route(
      'GET http://x.test/',
      cold('---r', { r: { status: 200, body: cold('-a--b|', { a: 'A', b: 'B' }) } }),
    );
    // The body's script starts with the response, at 3 ms: chunks at 4 and 7 ms, the end at 8 ms.
    expectObservable(curl.transfer('http://x.test/').pipe(map((e) => e.type))).toBe('---rd--e(f|)', {
      r: 'response',
      d: 'data',
      e: 'data',
      f: 'done',
    });
  });
});

test('an unrouted request errors with code 7 and still appears on results$', (t) => {
  const scheduler = marbles(t);
  const results: TransferResult[] = [];
  let error: CurlError | undefined;
  scheduler.run(() => {
    const curl = createTestCurl({ scheduler });
    curl.results$.subscribe((r) => results.push(r));
    curl.request('http://nowhere.test/').subscribe({ error: (e) => (error = e) });
  });
  t.true(error instanceof CurlError);
  t.is(error?.code, 7);
  t.is(error?.message, 'no route for GET http://nowhere.test/');
  t.is(results.length, 1);
  t.false(results[0].ok);
  t.is(results[0].codeName, 'CURLE_COULDNT_CONNECT');
});

test('{ error: 28 } fails the transfer with that CURLcode and its name', (t) => {
  const scheduler = marbles(t);
  let error: CurlError | undefined;
  scheduler.run(({ cold }) => {
    const curl = createTestCurl({ scheduler });
    curl.route('http://x.test/', cold('--e', { e: { error: 28 } }));
    curl.request('http://x.test/').subscribe({ error: (e) => (error = e) });
  });
  t.is(error?.code, 28);
  t.is(error?.codeName, 'CURLE_OPERATION_TIMEDOUT');
});

test('timeoutMs runs on virtual time', (t) => {
  const scheduler = marbles(t);
  let error: CurlError | undefined;
  let at = -1;
  scheduler.run(({ cold }) => {
    const curl = createTestCurl({ scheduler });
    curl.route('http://slow.test/', cold('-'));
    curl.request({ url: 'http://slow.test/', timeoutMs: 50 }).subscribe({
      error: (e) => {
        error = e;
        at = scheduler.now();
      },
    });
  });
  t.is(error?.code, 28);
  t.is(at, 50);
});

test('requests records what was sent; routes match by method and URL, RegExp or predicate, in order', (t) => {
  const scheduler = marbles(t);
  scheduler.run(({ expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route('POST http://api.test/items', of({ status: 201 }));
    curl.route(/\/items$/, of({ status: 200, body: 'list' }));
    curl.route(
      (req) => req.headers['x-mode'] === 'special',
      () => ({ status: 299 }),
    );
    const statuses = (req: Parameters<typeof curl.request>[0]) =>
      curl.request(req).pipe(map((r) => r.status));
    expectObservable(statuses({ url: 'http://api.test/items', json: { a: 1 } })).toBe('(s|)', { s: 201 });
    expectObservable(statuses('http://api.test/items')).toBe('(s|)', { s: 200 });
    expectObservable(statuses({ url: 'http://api.test/x', headers: { 'X-Mode': 'special' } })).toBe('(s|)', {
      s: 299,
    });
  });
});

test('requests: method, url, headers and body of each request', (t) => {
  const scheduler = marbles(t);
  const curl = createTestCurl({ scheduler });
  scheduler.run(() => {
    curl.route(/./, of({ status: 200 }));
    curl.request({ url: 'http://api.test/items', json: { a: 1 }, headers: { 'X-Id': '7' } }).subscribe();
    curl.request('http://api.test/other').subscribe();
  });
  t.deepEqual(curl.requests, [
    {
      method: 'POST',
      url: 'http://api.test/items',
      headers: { 'x-id': '7', 'content-type': 'application/json' },
      body: '{"a":1}',
    },
    { method: 'GET', url: 'http://api.test/other', headers: {}, body: undefined },
  ]);
});

test('ensureOk turns a scripted 404 into HttpError', (t) => {
  const scheduler = marbles(t);
  let error: unknown;
  scheduler.run(({ cold }) => {
    const curl = createTestCurl({ scheduler });
    curl.route('http://x.test/missing', cold('-r', { r: { status: 404, headers: { 'X-Why': 'gone' } } }));
    curl
      .request('http://x.test/missing')
      .pipe(ensureOk())
      .subscribe({ error: (e) => (error = e) });
  });
  t.true(error instanceof HttpError);
  t.is((error as HttpError).status, 404);
  t.is((error as HttpError).headers['x-why'], 'gone');
});

test('signal: aborting errors the transfer with ABORTED and unsubscribes the script', (t) => {
  const scheduler = marbles(t);
  scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
    const curl = createTestCurl({ scheduler });
    const script = cold('----------r', { r: { status: 200 } });
    curl.route('http://x.test/', script);
    const controller = new AbortController();
    scheduler.schedule(() => controller.abort(), 4);
    expectObservable(eventTypes(curl.transfer({ url: 'http://x.test/', signal: controller.signal }))).toBe(
      '----#',
      undefined,
      new CurlError('ABORTED', 'aborted by signal', 'http://x.test/'),
    );
    expectSubscriptions(script.subscriptions).toBe('^---!');
  });
});

test('running$ and results$ follow the scripted transfers', (t) => {
  const scheduler = marbles(t);
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route('http://x.test/a', cold('--r', { r: { status: 200 } }));
    curl.route('http://x.test/b', cold('-----r', { r: { status: 500 } }));
    curl.request('http://x.test/a').subscribe();
    curl.request('http://x.test/b').subscribe();
    expectObservable(curl.running$).toBe('2-1--0', { 0: 0, 1: 1, 2: 2 });
    expectObservable(curl.results$.pipe(map((r) => r.status))).toBe('--a--b', { a: 200, b: 500 });
  });
});

test('close(): scripted transfers in flight error with ABORTED', (t) => {
  const scheduler = marbles(t);
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route('http://x.test/', cold('--------r', { r: { status: 200 } }));
    scheduler.schedule(() => void curl.close(), 3);
    expectObservable(curl.request('http://x.test/')).toBe(
      '---#',
      undefined,
      new CurlError('ABORTED', 'the Curl was closed', 'http://x.test/'),
    );
  });
});

test('a route script that throws fails only its own transfer', (t) => {
  const scheduler = marbles(t);
  let error: CurlError | undefined;
  scheduler.run(({ cold, expectObservable }) => {
    const curl = createTestCurl({ scheduler });
    curl.route('http://x.test/bad', () => {
      throw new Error('boom');
    });
    curl.route('http://x.test/good', cold('--r', { r: { status: 200, body: 'ok' } }));
    curl.request('http://x.test/bad').subscribe({ error: (e) => (error = e) });
    expectObservable(curl.request('http://x.test/good').pipe(map((r) => r.text()))).toBe('--(a|)', {
      a: 'ok',
    });
  });
  t.is(error?.code, 56);
  t.is(error?.message, 'route script threw: Error: boom');
});

test('download() writes a real file: it is not on virtual time, so it runs on the real clock', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rxcurl-kit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const curl = createTestCurl();
  curl.route('http://x.test/file', of({ status: 200, body: 'file body' }));
  const done = await lastValueFrom(curl.download('http://x.test/file', join(dir, 'out.txt')));
  t.is(done.type, 'done');
  t.is(await readFile(join(dir, 'out.txt'), 'utf8'), 'file body');
  t.deepEqual(await readdir(dir), ['out.txt']);
  await curl.close();
});
