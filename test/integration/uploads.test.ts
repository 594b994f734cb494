import { Readable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { concatMap, from, lastValueFrom, Observable, of, delay as rxDelay } from 'rxjs';
import { randomPayload, readBody, sha256, useCurl, useServer, waitFor } from '../helpers/servers.js';

interface Echo {
  method: string;
  contentType: string | null;
  contentLength: string | null;
  chunked: boolean;
  length: number;
  sha256: string;
}

/** Answers with the method, content-type, length and sha256 of what it received. */
function serveEcho(t: ExecutionContext) {
  return useServer(t, async (req, res) => {
    const body = await readBody(req).catch(() => undefined);
    if (!body) return; // the client gave up mid-body
    const echo: Echo = {
      method: req.method ?? '',
      contentType: req.headers['content-type'] ?? null,
      contentLength: req.headers['content-length'] ?? null,
      chunked: req.headers['transfer-encoding'] === 'chunked',
      length: body.length,
      sha256: sha256(body),
    };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(echo));
  });
}

test('a string body is POSTed by default', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const text = 'héllo, wörld — ✓';
  const response = await lastValueFrom(curl.request({ url: `${server.url}/`, body: text }));
  const echo = response.json<Echo>();
  t.is(echo.method, 'POST');
  t.is(echo.length, Buffer.byteLength(text));
  t.is(echo.sha256, sha256(text));
  t.is(response.result.method, 'POST');
  t.is(response.result.uploadedBytes, Buffer.byteLength(text));
});

test('a Uint8Array body with PUT, binary and large, arrives exactly', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const bytes = new Uint8Array(randomPayload(3 * 1024 * 1024 + 7));
  const response = await lastValueFrom(
    curl.request({
      url: `${server.url}/`,
      method: 'PUT',
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    }),
  );
  const echo = response.json<Echo>();
  t.is(echo.method, 'PUT');
  t.is(echo.contentType, 'application/octet-stream');
  t.is(echo.length, bytes.length);
  t.is(echo.sha256, sha256(bytes));
});

test('a body with NUL bytes is not cut short', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const bytes = Buffer.from([1, 0, 2, 0, 0, 3]);
  const echo = (await lastValueFrom(curl.request({ url: `${server.url}/`, body: bytes }))).json<Echo>();
  t.is(echo.length, 6);
  t.is(echo.sha256, sha256(bytes));
});

test('URLSearchParams are sent form-encoded', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const form = new URLSearchParams({ name: 'a b', amp: '&=', unicode: 'é' });
  const echo = (await lastValueFrom(curl.request({ url: `${server.url}/`, body: form }))).json<Echo>();
  t.is(echo.method, 'POST');
  t.is(echo.contentType, 'application/x-www-form-urlencoded');
  t.is(echo.sha256, sha256(form.toString()));
});

test('json is serialised with content-type application/json, and PUT works with it', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const value = { a: 1, list: [true, null, 'x'], nested: { é: 'ü' } };
  const echo = (
    await lastValueFrom(curl.request({ url: `${server.url}/`, method: 'put', json: value }))
  ).json<Echo>();
  t.is(echo.method, 'PUT');
  t.is(echo.contentType, 'application/json');
  t.is(echo.sha256, sha256(JSON.stringify(value)));
});

test('an explicit content-type wins over the default one', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const echo = (
    await lastValueFrom(
      curl.request({
        url: `${server.url}/`,
        json: [1, 2],
        headers: { 'Content-Type': 'application/vnd.test+json' },
      }),
    )
  ).json<Echo>();
  t.is(echo.contentType, 'application/vnd.test+json');
  t.is(echo.sha256, sha256('[1,2]'));
});

test('an empty string body is a POST with content-length 0', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const echo = (await lastValueFrom(curl.request({ url: `${server.url}/`, body: '' }))).json<Echo>();
  t.is(echo.method, 'POST');
  t.is(echo.length, 0);
  t.is(server.requests[0].headers['content-length'], '0');
});

test('a body-less request after a POST on the same Curl is a plain GET again', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  await lastValueFrom(curl.request({ url: `${server.url}/`, body: 'first' }));
  const echo = (await lastValueFrom(curl.request(`${server.url}/`))).json<Echo>();
  t.is(echo.method, 'GET');
  t.is(echo.length, 0);
});

test('DELETE and PATCH methods are sent as given', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const del = (await lastValueFrom(curl.request({ url: `${server.url}/`, method: 'DELETE' }))).json<Echo>();
  t.is(del.method, 'DELETE');
  const patch = (
    await lastValueFrom(curl.request({ url: `${server.url}/`, method: 'PATCH', body: 'p' }))
  ).json<Echo>();
  t.is(patch.method, 'PATCH');
  t.is(patch.sha256, sha256('p'));
});

/** A payload in pieces of different sizes, some empty. */
function pieces(total: number): Buffer[] {
  const payload = randomPayload(total);
  const out: Buffer[] = [];
  for (let at = 0, n = 1; at < total; n = (n * 7) % 65_521) {
    out.push(payload.subarray(at, at + n));
    at += n;
    if (n % 5 === 0) out.push(Buffer.alloc(0));
  }
  return out;
}

test('a Readable body is streamed in chunked encoding and arrives exactly', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const parts = pieces(2 * 1024 * 1024);
  const whole = Buffer.concat(parts);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/`, method: 'PUT', body: Readable.from(parts) }),
  );
  const echo = response.json<Echo>();
  t.is(echo.method, 'PUT');
  t.true(echo.chunked);
  t.is(echo.length, whole.length);
  t.is(echo.sha256, sha256(whole));
  t.is(response.result.uploadedBytes, whole.length);
});

test('a Readable body with a Content-Length header is sent with that length, not chunked', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const parts = pieces(100_000);
  const whole = Buffer.concat(parts);
  const echo = (
    await lastValueFrom(
      curl.request({
        url: `${server.url}/`,
        body: Readable.from(parts),
        headers: { 'Content-Length': String(whole.length) },
      }),
    )
  ).json<Echo>();
  t.is(echo.method, 'POST');
  t.false(echo.chunked);
  t.is(echo.contentLength, String(whole.length));
  t.is(echo.sha256, sha256(whole));
});

test('a large Readable body (16 MiB, produced on demand) arrives exactly', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const block = randomPayload(64 * 1024);
  const blocks = 256;
  let produced = 0;
  const source = new Readable({
    read() {
      this.push(produced++ < blocks ? block : null);
    },
  });
  const echo = (await lastValueFrom(curl.request({ url: `${server.url}/`, body: source }))).json<Echo>();
  t.is(echo.length, block.length * blocks);
  t.is(echo.sha256, sha256(Buffer.concat(Array.from({ length: blocks }, () => block))));
});

test('an Observable<Uint8Array> body, with chunks arriving over time, arrives exactly', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const parts = pieces(300_000).map((b) => new Uint8Array(b));
  const body$ = from(parts).pipe(
    concatMap((part, i) => (i % 50 === 0 ? of(part).pipe(rxDelay(2)) : of(part))),
  );
  const echo = (await lastValueFrom(curl.request({ url: `${server.url}/`, body: body$ }))).json<Echo>();
  t.is(echo.sha256, sha256(Buffer.concat(parts)));
});

test('an empty Observable body is an empty POST', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const echo = (
    await lastValueFrom(
      curl.request({ url: `${server.url}/`, body: new Observable<Uint8Array>((s) => s.complete()) }),
    )
  ).json<Echo>();
  t.is(echo.method, 'POST');
  t.is(echo.length, 0);
});

test('a body stream that fails fails the transfer with its error', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const boom = new Error('source failed');
  const body$ = new Observable<Uint8Array>((s) => {
    s.next(new Uint8Array(1000));
    setTimeout(() => s.error(boom), 10);
  });
  const error = await t.throwsAsync(lastValueFrom(curl.request({ url: `${server.url}/`, body: body$ })));
  t.is(error, boom);
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('unsubscribing a streamed upload stops reading its source', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  let subscribed = false;
  let unsubscribed = false;
  const body$ = new Observable<Uint8Array>((s) => {
    subscribed = true;
    s.next(new Uint8Array(10));
    return () => {
      unsubscribed = true;
    };
  });
  const subscription = curl.request({ url: `${server.url}/`, body: body$ }).subscribe();
  await waitFor(() => subscribed, 'libcurl to ask for the body');
  subscription.unsubscribe();
  t.true(unsubscribed);
  t.like(curl.stats(), { transfers: 0 });
});

test('a Readable that errors fails the transfer', async (t) => {
  const server = await serveEcho(t);
  const curl = useCurl(t);
  const boom = new Error('readable failed');
  const source = new Readable({
    read() {
      this.destroy(boom);
    },
  });
  const error = await t.throwsAsync(lastValueFrom(curl.request({ url: `${server.url}/`, body: source })));
  t.is(error, boom);
});
