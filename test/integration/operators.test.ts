import test from 'ava';
import { lastValueFrom } from 'rxjs';
import { body, CurlError, ensureOk, HttpError, json, retryTransient, text } from '../../src/index.js';
import { freePort, randomPayload, sha256, useCurl, useServer } from '../helpers/servers.js';

test('text() and json() read a transfer body', async (t) => {
  const server = await useServer(t, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ path: req.url, list: [1, 'é'] }));
  });
  const curl = useCurl(t);
  t.is(await lastValueFrom(curl.transfer(`${server.url}/t`).pipe(text())), '{"path":"/t","list":[1,"é"]}');
  t.deepEqual(await lastValueFrom(curl.transfer(`${server.url}/j`).pipe(json())), {
    path: '/j',
    list: [1, 'é'],
  });
});

test('json() errors on a body that is not JSON', async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.end('<html>');
  });
  const curl = useCurl(t);
  await t.throwsAsync(lastValueFrom(curl.transfer(`${server.url}/`).pipe(json())), {
    instanceOf: SyntaxError,
  });
});

test('body() over a multi-chunk transfer is exact', async (t) => {
  const payload = randomPayload(3 * 1024 * 1024);
  const server = await useServer(t, (_req, res) => {
    res.end(payload);
  });
  const curl = useCurl(t);
  t.is(sha256(await lastValueFrom(curl.transfer(`${server.url}/`).pipe(body()))), sha256(payload));
});

test('ensureOk() turns a 404 into an HttpError, on transfer() before the body and on request()', async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.writeHead(404, { 'x-why': 'gone' }).end('not here');
  });
  const curl = useCurl(t);
  const url = `${server.url}/missing`;
  const fromEvents = await t.throwsAsync(lastValueFrom(curl.transfer(url).pipe(ensureOk(), body())), {
    instanceOf: HttpError,
  });
  t.is(fromEvents.status, 404);
  t.is(fromEvents.url, url);
  t.is(fromEvents.headers['x-why'], 'gone');
  const fromResponse = await t.throwsAsync(lastValueFrom(curl.request(url).pipe(ensureOk())), {
    instanceOf: HttpError,
  });
  t.is(fromResponse.status, 404);
  t.is(fromResponse.response?.text(), 'not here');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('ensureOk() lets 2xx and 3xx through', async (t) => {
  const server = await useServer(t, (req, res) => {
    if (req.url === '/r') res.writeHead(304).end();
    else res.end('fine');
  });
  const curl = useCurl(t);
  t.is((await lastValueFrom(curl.request(`${server.url}/`).pipe(ensureOk()))).text(), 'fine');
  t.is((await lastValueFrom(curl.request(`${server.url}/r`).pipe(ensureOk()))).status, 304);
});

test('retryTransient() retries 503 responses until one succeeds', async (t) => {
  let attempts = 0;
  const server = await useServer(t, (_req, res) => {
    attempts++;
    if (attempts < 3) res.writeHead(503, { 'retry-after': '0' }).end('busy');
    else res.end('finally');
  });
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl
      .request(`${server.url}/`)
      .pipe(ensureOk(), retryTransient({ count: 5, baseDelayMs: 5, maxDelayMs: 50 })),
  );
  t.is(response.text(), 'finally');
  t.is(attempts, 3);
});

test('retryTransient() gives up after count retries with the last error', async (t) => {
  const port = await freePort();
  const curl = useCurl(t);
  const results: number[] = [];
  curl.results$.subscribe((r) => results.push(r.code));
  const error = await t.throwsAsync(
    lastValueFrom(
      curl
        .request(`http://127.0.0.1:${port}/`)
        .pipe(retryTransient({ count: 2, baseDelayMs: 5, maxDelayMs: 20 })),
    ),
    { instanceOf: CurlError },
  );
  t.is(error.code, 7);
  t.deepEqual(results, [7, 7, 7], 'the first attempt and two retries');
});

test('retryTransient() does not retry a 404', async (t) => {
  let attempts = 0;
  const server = await useServer(t, (_req, res) => {
    attempts++;
    res.writeHead(404).end();
  });
  const curl = useCurl(t);
  await t.throwsAsync(
    lastValueFrom(
      curl
        .request(`${server.url}/`)
        .pipe(ensureOk(), retryTransient({ count: 3, baseDelayMs: 5, maxDelayMs: 20 })),
    ),
    { instanceOf: HttpError },
  );
  t.is(attempts, 1);
});
