import type net from 'node:net';
import test from 'ava';
import { lastValueFrom, type Observable, take, toArray } from 'rxjs';
import { type Curl, CurlError, type TransferResult } from '../../src/index.js';
import { freePort, randomPayload, startTcpServer, useCurl, useServer } from '../helpers/servers.js';

/** Subscribes to results$ first, then runs the request; resolves with both outcomes. */
async function failWithResult(curl: Curl, request$: Observable<unknown>) {
  const results = lastValueFrom(curl.results$.pipe(take(1), toArray()));
  const error = await lastValueFrom(request$).then(
    () => undefined,
    (err: unknown) => err,
  );
  return { error, results: (await results) as TransferResult[] };
}

test('connection refused is CurlError 7, and its result is on results$ with ok: false', async (t) => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/nothing`;
  const curl = useCurl(t);
  const { error, results } = await failWithResult(curl, curl.request(url));
  t.true(error instanceof CurlError);
  const e = error as CurlError;
  t.is(e.code, 7);
  t.is(e.codeName, 'CURLE_COULDNT_CONNECT');
  t.is(e.url, url);
  t.true(e.message.length > 0);
  t.is(results.length, 1);
  t.like(results[0], { ok: false, code: 7, codeName: 'CURLE_COULDNT_CONNECT', url, status: 0 });
  t.is(e.result?.id, results[0].id);
  t.is(curl.stats().transfers, 0);
  t.is(curl.stats().easyHandles, 0);
});

test('a server that never answers times out with CurlError 28', async (t) => {
  const held: net.Socket[] = [];
  const server = await startTcpServer((socket) => {
    held.push(socket);
    socket.resume(); // read the request, never answer
  });
  t.teardown(() => server.close());
  const url = `${server.url}/hang`;
  const curl = useCurl(t);
  const { error, results } = await failWithResult(curl, curl.request({ url, timeoutMs: 200 }));
  t.true(error instanceof CurlError);
  t.like(error, { code: 28, codeName: 'CURLE_OPERATION_TIMEDOUT', url });
  t.like(results[0], { ok: false, code: 28, url });
  t.true(results[0].timings.totalMs >= 150, `timed out after ${results[0].timings.totalMs} ms`);
  t.is(held.length, 1);
});

test('transfer() errors the same way, with no done event', async (t) => {
  const port = await freePort();
  const curl = useCurl(t);
  const events: string[] = [];
  const error = await new Promise<unknown>((resolve) => {
    curl.transfer(`http://127.0.0.1:${port}/`).subscribe({
      next: (e) => events.push(e.type),
      error: resolve,
      complete: () => resolve(undefined),
    });
  });
  t.like(error, { code: 7 });
  t.deepEqual(events, []);
});

test('a connection closed before any response is CurlError 52 (CURLE_GOT_NOTHING)', async (t) => {
  const server = await startTcpServer((socket) => {
    socket.once('data', () => socket.destroy());
  });
  t.teardown(() => server.close());
  const curl = useCurl(t);
  const error = await t.throwsAsync(lastValueFrom(curl.request(`${server.url}/`)), { instanceOf: CurlError });
  t.is(error.code, 52);
  t.is(error.codeName, 'CURLE_GOT_NOTHING');
});

test('a body cut short is CurlError 18 (CURLE_PARTIAL_FILE), after the response event', async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.writeHead(200, { 'content-length': 10_000 });
    res.write(randomPayload(1000), () => res.destroy());
  });
  const curl = useCurl(t);
  const events: string[] = [];
  const error = await new Promise<unknown>((resolve) => {
    curl.transfer(`${server.url}/`).subscribe({
      next: (e) => events.push(e.type),
      error: resolve,
      complete: () => resolve(undefined),
    });
  });
  t.like(error, { code: 18, codeName: 'CURLE_PARTIAL_FILE' });
  t.is(events[0], 'response');
  t.false(events.includes('done'));
});

test('maxBodyBytes: a body over the limit fails with CurlError 63, with or without a content-length', async (t) => {
  const big = randomPayload(64 * 1024);
  const server = await useServer(t, (req, res) => {
    if (req.url === '/sized') res.writeHead(200, { 'content-length': big.length });
    res.end(big);
  });
  const curl = useCurl(t);
  for (const path of ['/sized', '/chunked']) {
    const error = await t.throwsAsync(
      lastValueFrom(curl.request({ url: `${server.url}${path}`, maxBodyBytes: 1000 })),
      { instanceOf: CurlError },
      path,
    );
    t.is(error.code, 63, path);
  }
  const exact = await lastValueFrom(curl.request({ url: `${server.url}/chunked`, maxBodyBytes: big.length }));
  t.is(exact.body.length, big.length);
});

test('a failed transfer leaves the Curl usable', async (t) => {
  const port = await freePort();
  const server = await useServer(t, (_req, res) => {
    res.end('fine');
  });
  const curl = useCurl(t);
  await t.throwsAsync(lastValueFrom(curl.request(`http://127.0.0.1:${port}/`)));
  const response = await lastValueFrom(curl.request(`${server.url}/`));
  t.is(response.text(), 'fine');
});
