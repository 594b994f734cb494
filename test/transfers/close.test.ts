import v8 from 'node:v8';
import vm from 'node:vm';
import test from 'ava';
import { lastValueFrom, type Observable, toArray } from 'rxjs';
import { Curl, CurlError, type TransferResult } from '../../src/index.js';
import { delay, useServer, waitFor } from '../helpers/servers.js';

/** /hang never answers; anything else answers 'ok'. */
function serveHanging(t: Parameters<typeof useServer>[0]) {
  return useServer(t, (req, res) => {
    if (req.url !== '/hang') res.end('ok');
  });
}

/** Where an Observable ended: 'complete', or the error. */
function outcome(observable: Observable<unknown>): Promise<unknown> {
  return new Promise((resolve) => {
    observable.subscribe({ error: resolve, complete: () => resolve('complete') });
  });
}

test('close() with transfers in flight errors them with ABORTED and completes results$ and running$', async (t) => {
  const server = await serveHanging(t);
  const curl = new Curl();
  t.teardown(() => curl.close());
  const results: TransferResult[] = [];
  curl.results$.subscribe((r) => results.push(r));
  const resultsEnd = outcome(curl.results$);
  const runningValues: number[] = [];
  curl.running$.subscribe((n) => runningValues.push(n));
  const runningEnd = outcome(curl.running$);

  const url = `${server.url}/hang`;
  const ends = [0, 1, 2].map(() => outcome(curl.transfer(url)));
  const requestEnd = outcome(curl.request(url));
  await waitFor(() => server.requests.length === 4, 'the four requests to arrive');
  t.is(curl.stats().transfers, 4);

  await curl.close();
  for (const end of [...ends, requestEnd]) {
    const error = await end;
    t.true(error instanceof CurlError);
    t.like(error, { code: 'ABORTED', codeName: 'ABORTED', url });
  }
  t.is(await resultsEnd, 'complete');
  t.is(await runningEnd, 'complete');
  t.is(runningValues.at(-1), 0, 'running$ ends at 0');
  t.true(runningValues.includes(4));
  t.deepEqual(results, [], 'aborted transfers were never reported done by libcurl');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0, sockets: 0 });
  await waitFor(() => server.sockets.size === 0, 'the server to see every connection close');
});

test('close() is idempotent', async (t) => {
  const server = await serveHanging(t);
  const curl = new Curl();
  t.teardown(() => curl.close());
  const pending = outcome(curl.transfer(`${server.url}/hang`));
  await waitFor(() => server.requests.length === 1, 'the request to arrive');
  const first = curl.close();
  const second = curl.close();
  await t.notThrowsAsync(first);
  await t.notThrowsAsync(second);
  await t.notThrowsAsync(curl.close());
  t.like(await pending, { code: 'ABORTED' });
});

test('a transfer subscribed after close() errors with ABORTED and sends nothing', async (t) => {
  const server = await serveHanging(t);
  const curl = new Curl();
  t.teardown(() => curl.close());
  const request$ = curl.request(`${server.url}/ok`); // created before, subscribed after
  await curl.close();
  const all: Observable<unknown>[] = [
    request$,
    curl.transfer(`${server.url}/ok`),
    curl.request(`${server.url}/ok`),
  ];
  for (const events$ of all) {
    let error: unknown;
    t.notThrows(() => events$.subscribe({ error: (e) => (error = e) }));
    t.true(error instanceof CurlError);
    t.like(error, { code: 'ABORTED', url: `${server.url}/ok` });
  }
  await delay(20);
  t.is(server.requests.length, 0);
});

test('results$ and running$ subscribed after close() complete at once', async (t) => {
  const curl = new Curl();
  t.teardown(() => curl.close());
  await curl.close();
  t.deepEqual(await lastValueFrom(curl.results$.pipe(toArray())), []);
  t.is(await outcome(curl.running$), 'complete');
});

test('close() on an idle Curl that has done some work resolves and frees everything', async (t) => {
  const server = await serveHanging(t);
  const curl = new Curl();
  t.teardown(() => curl.close());
  const response = await lastValueFrom(curl.request(`${server.url}/ok`));
  t.is(response.text(), 'ok');
  t.is(curl.stats().pooledHandles, 1);
  await curl.close();
  t.like(curl.stats(), { transfers: 0, easyHandles: 0, pooledHandles: 0, sockets: 0, timerArmed: false });
  await waitFor(() => server.sockets.size === 0, 'the kept-alive connection to close');
});

test('await using closes the Curl at the end of the block (Symbol.asyncDispose)', async (t) => {
  const server = await serveHanging(t);
  let pending: Promise<unknown> | undefined;
  let resultsEnd: Promise<unknown> | undefined;
  let escaped: Curl | undefined;
  {
    await using curl = new Curl();
    escaped = curl;
    resultsEnd = outcome(curl.results$);
    pending = outcome(curl.transfer(`${server.url}/hang`));
    const response = await lastValueFrom(curl.request(`${server.url}/ok`));
    t.is(response.text(), 'ok');
    await waitFor(() => server.requests.length === 2, 'both requests to arrive');
  }
  t.is(await resultsEnd, 'complete');
  t.like(await pending, { code: 'ABORTED' });
  t.like(escaped.stats(), { transfers: 0, easyHandles: 0 });
  t.is(typeof escaped[Symbol.asyncDispose], 'function');
});

test('closing one Curl leaves another working', async (t) => {
  const server = await serveHanging(t);
  const a = new Curl();
  t.teardown(() => a.close());
  const b = new Curl();
  t.teardown(() => b.close());
  const pendingA = outcome(a.transfer(`${server.url}/hang`));
  await waitFor(() => server.requests.length === 1, 'the request to arrive');
  await a.close();
  t.like(await pendingA, { code: 'ABORTED' });
  t.is((await lastValueFrom(b.request(`${server.url}/ok`))).text(), 'ok');
});

test('close() called from inside a data handler aborts that transfer and the others', async (t) => {
  const server = await useServer(t, (req, res) => {
    if (req.url === '/hang') return;
    res.writeHead(200);
    res.write('first part');
  });
  const curl = new Curl();
  t.teardown(() => curl.close());
  const other = outcome(curl.transfer(`${server.url}/hang`));
  let closing: Promise<void> | undefined;
  const events: string[] = [];
  const error = await new Promise<unknown>((resolve) => {
    curl.transfer(`${server.url}/stream`).subscribe({
      next: (e) => {
        events.push(e.type);
        if (e.type === 'data') closing = curl.close();
      },
      error: resolve,
      complete: () => resolve('complete'),
    });
  });
  t.like(error, { code: 'ABORTED' });
  t.deepEqual(events, ['response', 'data']);
  t.like(await other, { code: 'ABORTED' });
  await t.notThrowsAsync(closing!);
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

// Reachability after forced collections, not memory figures: a WeakRef to each closed Curl's engine.
test('a closed Curl does not stay reachable: its engine and driver can be collected', async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.end('ok');
  });
  const engines: WeakRef<object>[] = [];
  for (let i = 0; i < 10; i++) {
    const curl = new Curl();
    t.is((await lastValueFrom(curl.request(`${server.url}/`))).text(), 'ok');
    // The engine is private; it is what the process-wide callback tables could keep alive.
    engines.push(new WeakRef((curl as unknown as { engine: object }).engine));
    await curl.close();
  }
  for (let i = 0; i < 5; i++) {
    gc();
    await delay(10);
  }
  const alive = engines.filter((ref) => ref.deref() !== undefined).length;
  // The last one may still be held by a pending promise job or a register of V8's; no more.
  t.true(alive <= 1, `${alive} of ${engines.length} closed engines are still reachable`);
});
