import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { concatMap, from, lastValueFrom, Observable, of, delay as rxDelay } from 'rxjs';
import { CurlError, type CurlResponse } from '../../src/index.js';
import { GiB, generatedBody, KiB, MiB } from '../helpers/bulk.js';
import { pieces, randomPayload, sha256, useCurl, useServer, waitFor } from '../helpers/servers.js';

interface Echo {
  method: string;
  contentType: string | null;
  contentLength: string | null;
  chunked: boolean;
  length: number;
  sha256: string;
}

/**
 * Hashes what it receives as it arrives (never holds a body) and answers with what it saw.
 * `received()` counts the body bytes of every request so far, as they arrive.
 */
async function serveHashEcho(t: ExecutionContext) {
  let received = 0;
  const server = await useServer(t, (req, res) => {
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
      received += chunk.length;
    });
    req.on('error', () => {}); // the client gave up mid-body
    req.on('end', () => {
      const echo: Echo = {
        method: req.method ?? '',
        contentType: req.headers['content-type'] ?? null,
        contentLength: req.headers['content-length'] ?? null,
        chunked: req.headers['transfer-encoding'] === 'chunked',
        length,
        sha256: hash.digest('hex'),
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(echo));
    });
  });
  return { ...server, received: () => received };
}

/**
 * What the server echoed for `response`, once checked that it received exactly `payload` and that
 * uploadedBytes counts it (body bytes, without any chunked framing).
 */
function arrived(t: ExecutionContext, response: CurlResponse, payload: Uint8Array | string): Echo {
  const echo = response.json<Echo>();
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  t.is(echo.length, size);
  t.is(echo.sha256, sha256(payload));
  t.is(response.result.uploadedBytes, size);
  return echo;
}

test('a string body is POSTed by default', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const text = 'héllo, wörld — ✓';
  const response = await lastValueFrom(curl.request({ url: `${server.url}/`, body: text }));
  const echo = arrived(t, response, text);
  t.is(echo.method, 'POST');
  t.false(echo.chunked);
  t.is(echo.contentLength, String(Buffer.byteLength(text)));
  t.is(response.result.method, 'POST');
});

test('a Uint8Array body with PUT, binary and large, arrives exactly', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const bytes = new Uint8Array(randomPayload(3 * MiB + 7));
  const response = await lastValueFrom(
    curl.request({
      url: `${server.url}/`,
      method: 'PUT',
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    }),
  );
  const echo = arrived(t, response, bytes);
  t.is(echo.method, 'PUT');
  t.is(echo.contentType, 'application/octet-stream');
});

test('a body with NUL bytes is not cut short', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const bytes = Buffer.from([1, 0, 2, 0, 0, 3]);
  const echo = (await lastValueFrom(curl.request({ url: `${server.url}/`, body: bytes }))).json<Echo>();
  t.is(echo.length, 6);
  t.is(echo.sha256, sha256(bytes));
});

test('URLSearchParams are sent form-encoded', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const form = new URLSearchParams({ name: 'a b', amp: '&=', unicode: 'é' });
  const echo = (await lastValueFrom(curl.request({ url: `${server.url}/`, body: form }))).json<Echo>();
  t.is(echo.method, 'POST');
  t.is(echo.contentType, 'application/x-www-form-urlencoded');
  t.is(echo.sha256, sha256(form.toString()));
});

test('json is serialised with content-type application/json, and PUT works with it', async (t) => {
  const server = await serveHashEcho(t);
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
  const server = await serveHashEcho(t);
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
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const echo = (await lastValueFrom(curl.request({ url: `${server.url}/`, body: '' }))).json<Echo>();
  t.is(echo.method, 'POST');
  t.is(echo.length, 0);
  t.is(echo.contentLength, '0');
});

test('DELETE and PATCH methods are sent as given', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const del = (await lastValueFrom(curl.request({ url: `${server.url}/`, method: 'DELETE' }))).json<Echo>();
  t.is(del.method, 'DELETE');
  t.is(del.length, 0);
  const patch = (
    await lastValueFrom(curl.request({ url: `${server.url}/`, method: 'PATCH', body: 'p' }))
  ).json<Echo>();
  t.is(patch.method, 'PATCH');
  t.is(patch.sha256, sha256('p'));
});

for (const method of ['POST', 'PUT'] as const) {
  test(`a Readable body (${method}) arrives exactly, chunked, and uploadedBytes is the body size`, async (t) => {
    const server = await serveHashEcho(t);
    const curl = useCurl(t);
    const payload = randomPayload(3 * MiB + 11);
    const response = await lastValueFrom(
      curl.request({ url: `${server.url}/up`, method, body: Readable.from(pieces(payload)) }),
    );
    const echo = arrived(t, response, payload);
    t.is(response.status, 200);
    t.is(echo.method, method);
    t.true(echo.chunked, 'a stream of unknown length goes with chunked transfer-encoding');
  });

  test(`an Observable<Uint8Array> body (${method}), some chunks arriving later, arrives exactly`, async (t) => {
    const server = await serveHashEcho(t);
    const curl = useCurl(t);
    const payload = randomPayload(2 * MiB + 3);
    // Uint8Arrays, not Buffers: views at offsets into one ArrayBuffer, and some pushed asynchronously.
    const chunks = pieces(payload).map((b) => new Uint8Array(b.buffer, b.byteOffset, b.length));
    const body = from(chunks).pipe(
      concatMap((chunk, i) => (i % 5 === 0 ? of(chunk).pipe(rxDelay(1)) : of(chunk))),
    );
    const response = await lastValueFrom(curl.request({ url: `${server.url}/up`, method, body }));
    const echo = arrived(t, response, payload);
    t.is(echo.method, method);
    t.true(echo.chunked);
  });
}

test('a streamed body with a Content-Length header goes unchunked, with that length', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const payload = randomPayload(MiB + 5);
  const response = await lastValueFrom(
    curl.request({
      url: `${server.url}/up`,
      method: 'PUT',
      headers: { 'Content-Length': String(payload.length) },
      body: Readable.from(pieces(payload)),
    }),
  );
  const echo = arrived(t, response, payload);
  t.is(echo.method, 'PUT');
  t.false(echo.chunked);
  t.is(echo.contentLength, String(payload.length));
});

test('a slow Readable (a chunk every few ms) still uploads exactly', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const chunks = Array.from({ length: 60 }, (_, i) => randomPayload(1 + ((i * 7919) % (20 * KiB))));
  const payload = Buffer.concat(chunks);
  let next = 0;
  const slow = new Readable({
    read() {
      setTimeout(() => this.push(next < chunks.length ? chunks[next++] : null), 4);
    },
  });
  const response = await lastValueFrom(curl.request({ url: `${server.url}/slow`, body: slow }));
  const echo = arrived(t, response, payload);
  t.is(next, chunks.length, 'every chunk was read');
  t.is(echo.method, 'POST', 'a streamed body is POSTed by default');
});

test('a slow Observable (a chunk every few ms) uploads exactly', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const chunks = Array.from({ length: 40 }, (_, i) => randomPayload(1 + ((i * 104_729) % (8 * KiB))));
  const payload = Buffer.concat(chunks);
  const body = new Observable<Uint8Array>((subscriber) => {
    let i = 0;
    const timer = setInterval(() => {
      if (i < chunks.length) subscriber.next(chunks[i++]);
      else subscriber.complete();
    }, 4);
    return () => clearInterval(timer);
  });
  const response = await lastValueFrom(curl.request({ url: `${server.url}/slow`, method: 'PUT', body }));
  t.is(arrived(t, response, payload).method, 'PUT');
});

test('an empty streamed body (a Readable or an Observable) is an empty POST that completes', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const sources = {
    Readable: Readable.from([]),
    Observable: new Observable<Uint8Array>((subscriber) => subscriber.complete()),
  };
  for (const [kind, body] of Object.entries(sources)) {
    const response = await lastValueFrom(curl.request({ url: `${server.url}/empty`, body }));
    const echo = response.json<Echo>();
    t.is(echo.method, 'POST', kind);
    t.is(echo.length, 0, kind);
    t.is(response.result.uploadedBytes, 0, kind);
  }
});

for (const [when, limit] of [
  ['before its first byte', 0],
  ['mid-upload', 512 * KiB],
] as const) {
  test(`a Readable that errors ${when} errors the transfer with that error; the Curl stays usable`, async (t) => {
    const server = await serveHashEcho(t);
    const curl = useCurl(t);
    const boom = new Error('disk on fire');
    let sent = 0;
    const failing = new Readable({
      read() {
        if (sent >= limit) {
          setTimeout(() => this.destroy(boom), 5);
          return;
        }
        sent += 64 * KiB;
        this.push(randomPayload(64 * KiB));
      },
    });
    const err = await t.throwsAsync(lastValueFrom(curl.request({ url: `${server.url}/up`, body: failing })));
    t.is(err, boom, 'the Readable’s own error, not a libcurl code');
    t.like(curl.stats(), { transfers: 0, easyHandles: 0 });

    const payload = randomPayload(100 * KiB);
    const response = await lastValueFrom(
      curl.request({ url: `${server.url}/again`, body: Readable.from(pieces(payload)) }),
    );
    t.is(response.json<Echo>().sha256, sha256(payload));
  });
}

test('an Observable body that errors mid-upload errors the transfer with that error; the Curl stays usable', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const boom = new Error('source failed');
  const body = new Observable<Uint8Array>((subscriber) => {
    subscriber.next(randomPayload(64 * KiB));
    const timer = setTimeout(() => subscriber.error(boom), 20);
    return () => clearTimeout(timer);
  });
  const err = await t.throwsAsync(lastValueFrom(curl.request({ url: `${server.url}/up`, body })));
  t.is(err, boom);
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
  const again = await lastValueFrom(curl.request({ url: `${server.url}/again`, body: 'ok' }));
  t.is(again.json<Echo>().length, 2);
});

test('unsubscribing a streamed upload stops reading its source', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  let subscribed = false;
  let unsubscribed = false;
  const body = new Observable<Uint8Array>((subscriber) => {
    subscribed = true;
    subscriber.next(new Uint8Array(10));
    return () => {
      unsubscribed = true;
    };
  });
  const subscription = curl.request({ url: `${server.url}/`, body }).subscribe();
  await waitFor(() => subscribed, 'libcurl to ask for the body');
  t.false(unsubscribed);
  subscription.unsubscribe();
  t.true(unsubscribed);
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('a streamed upload to a port nobody listens on fails with a CurlError, not a hang', async (t) => {
  const curl = useCurl(t);
  const server = await serveHashEcho(t);
  const url = `${server.url}/up`;
  await server.close();
  const err = await t.throwsAsync(
    lastValueFrom(curl.request({ url, body: Readable.from([Buffer.from('abc')]) })),
  );
  t.true(err instanceof CurlError);
  t.is((err as CurlError).code, 7);
});

/**
 * The most that TCP on this machine can hold between the two ends of one connection: the largest
 * send buffer plus the largest receive buffer the kernel grows to (the third field of
 * net.ipv4.tcp_wmem and tcp_rmem). 64 MiB where those cannot be read.
 */
function tcpBuffersMax(): number {
  const max = (name: string) =>
    Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[2]);
  try {
    return max('tcp_wmem') + max('tcp_rmem');
  } catch {
    return 64 * MiB;
  }
}

// A generated 1 GiB upload, exact by checksum. Flow control from libcurl's read callback back to the
// Readable is what keeps it in flat memory: without it the Readable would be drained as fast as it
// can make chunks, far ahead of the network. So at every read the Readable may be ahead of what the
// server has received by no more than the buffers in between. (Memory itself, RSS, is for the bench:
// bench/workloads.ts, not for a test.)
test.serial(
  'a generated 1 GiB upload arrives exactly; the Readable never runs ahead of the server by more than the buffers between them',
  async (t) => {
    t.timeout(120_000);
    const server = await serveHashEcho(t);
    const curl = useCurl(t);
    const size = GiB;
    const chunk = 64 * KiB;
    // rxcurl's upload buffer (1 MiB, src/core/UploadSource.ts), libcurl's (at most 2 MiB), the
    // Readable's own buffer and the chunk being pushed, then the kernel's socket buffers.
    const bound = MiB + 2 * MiB + 2 * chunk + tcpBuffersMax();
    let ahead = 0;
    const body = generatedBody(size, chunk, () => {
      ahead = Math.max(ahead, body.produced() - server.received());
    });
    let pauses = 0;
    body.readable.on('pause', () => pauses++);
    const response = await lastValueFrom(
      curl.request({ url: `${server.url}/huge`, method: 'PUT', body: body.readable }),
    );
    const echo = response.json<Echo>();
    t.log(
      `1 GiB upload: the Readable was paused ${pauses} times and ran ahead of the server by ` +
        `${(ahead / MiB).toFixed(1)} MiB at most (bound ${(bound / MiB).toFixed(1)} MiB)`,
    );
    t.is(echo.length, size);
    t.is(echo.sha256, body.digest());
    t.is(response.result.uploadedBytes, size);
    t.true(pauses > 0, 'the upload paused the Readable while libcurl could not take more');
    t.true(ahead <= bound, `the Readable ran ${ahead} bytes ahead of the server (bound ${bound})`);
  },
);
