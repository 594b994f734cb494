import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { concatMap, from, lastValueFrom, Observable, of, delay as rxDelay } from 'rxjs';
import { CurlError } from '../../src/index.js';
import { GiB, generatedBody, KiB, MiB, mb, sampleRss } from '../helpers/bulk.js';
import { randomPayload, sha256, useCurl, useServer } from '../helpers/servers.js';

interface Echo {
  method: string;
  chunked: boolean;
  contentLength: string | null;
  length: number;
  sha256: string;
}

/** Hashes what it receives as it arrives (never holds a body) and answers with what it saw. */
function serveHashEcho(t: ExecutionContext) {
  return useServer(t, (req, res) => {
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    req.on('error', () => {}); // the client gave up mid-body
    req.on('end', () => {
      const echo: Echo = {
        method: req.method ?? '',
        chunked: req.headers['transfer-encoding'] === 'chunked',
        contentLength: req.headers['content-length'] ?? null,
        length,
        sha256: hash.digest('hex'),
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(echo));
    });
  });
}

/** Splits `bytes` into pieces of uneven sizes, so chunk boundaries never line up with libcurl's buffer. */
function pieces(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const sizes = [1, 17, 4096, 65_537, 300_001, 7];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const n = Math.min(sizes[i % sizes.length], bytes.length - offset);
    out.push(bytes.subarray(offset, offset + n));
    offset += n;
  }
  return out;
}

for (const method of ['POST', 'PUT'] as const) {
  test(`a Readable body (${method}) arrives exactly, chunked, and uploadedBytes is the body size`, async (t) => {
    const server = await serveHashEcho(t);
    const curl = useCurl(t);
    const payload = randomPayload(3 * MiB + 11);
    const response = await lastValueFrom(
      curl.request({ url: `${server.url}/up`, method, body: Readable.from(pieces(payload)) }),
    );
    const echo = response.json<Echo>();
    t.is(response.status, 200);
    t.is(echo.method, method);
    t.true(echo.chunked, 'a stream of unknown length goes with chunked transfer-encoding');
    t.is(echo.length, payload.length);
    t.is(echo.sha256, sha256(payload));
    t.is(response.result.uploadedBytes, payload.length, 'body bytes, without the chunked framing');
  });

  test(`an Observable<Uint8Array> body (${method}) arrives exactly`, async (t) => {
    const server = await serveHashEcho(t);
    const curl = useCurl(t);
    const payload = randomPayload(2 * MiB + 3);
    // Uint8Arrays, not Buffers, and some of them pushed asynchronously.
    const chunks = pieces(payload).map((b) => new Uint8Array(b.buffer, b.byteOffset, b.length));
    const body = from(chunks).pipe(
      concatMap((chunk, i) => (i % 5 === 0 ? of(chunk).pipe(rxDelay(1)) : of(chunk))),
    );
    const response = await lastValueFrom(curl.request({ url: `${server.url}/up`, method, body }));
    const echo = response.json<Echo>();
    t.is(echo.method, method);
    t.is(echo.length, payload.length);
    t.is(echo.sha256, sha256(payload));
    t.is(response.result.uploadedBytes, payload.length);
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
  const echo = response.json<Echo>();
  t.false(echo.chunked);
  t.is(echo.contentLength, String(payload.length));
  t.is(echo.sha256, sha256(payload));
  t.is(response.result.uploadedBytes, payload.length);
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
  const echo = response.json<Echo>();
  t.is(next, chunks.length, 'every chunk was read');
  t.is(echo.length, payload.length);
  t.is(echo.sha256, sha256(payload));
  t.is(response.result.uploadedBytes, payload.length);
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
  const echo = response.json<Echo>();
  t.is(echo.method, 'PUT');
  t.is(echo.sha256, sha256(payload));
  t.is(response.result.uploadedBytes, payload.length);
});

test('an empty streamed body sends nothing and completes', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${server.url}/empty`, body: Readable.from([]) }));
  const echo = response.json<Echo>();
  t.is(echo.method, 'POST');
  t.is(echo.length, 0);
  t.is(response.result.uploadedBytes, 0);
});

test('a Readable that errors mid-upload errors the transfer with that error; the Curl stays usable', async (t) => {
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const boom = new Error('disk on fire');
  let sent = 0;
  const failing = new Readable({
    read() {
      if (sent >= 512 * KiB) {
        setTimeout(() => this.destroy(boom), 5);
        return;
      }
      sent += 64 * KiB;
      this.push(randomPayload(64 * KiB));
    },
  });
  const err = await t.throwsAsync(lastValueFrom(curl.request({ url: `${server.url}/up`, body: failing })));
  t.is(err, boom, 'the Readable’s own error, not a libcurl code');
  t.deepEqual(
    { transfers: curl.stats().transfers, easyHandles: curl.stats().easyHandles },
    { transfers: 0, easyHandles: 0 },
  );

  const payload = randomPayload(100 * KiB);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/again`, body: Readable.from(pieces(payload)) }),
  );
  t.is(response.json<Echo>().sha256, sha256(payload));
});

test('an Observable body that errors mid-upload errors the transfer with that error', async (t) => {
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
  const again = await lastValueFrom(curl.request({ url: `${server.url}/again`, body: 'ok' }));
  t.is(again.json<Echo>().length, 2);
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

// A generated 1 GiB upload: exact by checksum, and in flat memory — without flow control from
// libcurl's read callback back to the Readable it would buffer the whole GiB.
test.serial('a generated 1 GiB upload arrives exactly and RSS stays flat', async (t) => {
  t.timeout(120_000);
  const server = await serveHashEcho(t);
  const curl = useCurl(t);
  const size = GiB;
  // A first upload, so that one-off allocations (JIT code, heap pages) do not count as growth.
  await lastValueFrom(curl.request({ url: `${server.url}/warm-up`, body: generatedBody(8 * MiB).readable }));
  const body = generatedBody(size, 64 * KiB);
  const rss = sampleRss(20);
  const started = performance.now();
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/huge`, method: 'PUT', body: body.readable }),
  );
  const seconds = (performance.now() - started) / 1000;
  const memory = rss.stop();
  const echo = response.json<Echo>();
  t.log(
    `1 GiB upload: ${seconds.toFixed(1)} s, RSS baseline ${mb(memory.baseline)}, peak ${mb(memory.peak)}, ` +
      `peak growth ${mb(memory.growth)} (${memory.samples} samples)`,
  );
  t.is(echo.length, size);
  t.is(echo.sha256, body.digest());
  t.is(response.result.uploadedBytes, size);
  t.true(memory.growth < 300 * MiB, `RSS grew by ${mb(memory.growth)}`);
});
