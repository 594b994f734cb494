import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom, map, toArray } from 'rxjs';
import type { ProgressEvent, TransferEvent } from '../../src/index.js';
import { randomPayload, sha256, useCurl, useServer } from '../helpers/servers.js';

const CHUNK = 8 * 1024;
const CHUNKS = 20;
const BODY = randomPayload(CHUNK * CHUNKS);

/** /slow sends BODY (with a content-length) in 20 chunks, one every 50 ms: about 1 s in all. */
function serveSlowly(t: ExecutionContext) {
  return useServer(t, (req, res) => {
    if (req.method !== 'GET') {
      const hash = createHash('sha256');
      let length = 0;
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        length += chunk.length;
      });
      req.on('end', () => res.end(`${length} ${hash.digest('hex')}`));
      return;
    }
    res.writeHead(200, { 'content-length': BODY.length, 'content-type': 'application/octet-stream' });
    let i = 0;
    const timer = setInterval(() => {
      if (res.destroyed) {
        clearInterval(timer);
        return;
      }
      res.write(BODY.subarray(i * CHUNK, (i + 1) * CHUNK));
      if (++i === CHUNKS) {
        clearInterval(timer);
        res.end();
      }
    }, 50);
  });
}

test('progress: at most one event per 100 ms, and a final one with the full totals just before done', async (t) => {
  const server = await serveSlowly(t);
  const curl = useCurl(t);
  const events: Array<{ at: number; event: TransferEvent }> = await lastValueFrom(
    curl.transfer({ url: `${server.url}/slow`, progress: true }).pipe(
      map((event) => ({ at: performance.now(), event })),
      toArray(),
    ),
  );
  const types = events.map((e) => e.event.type);
  t.regex(
    types.join(' '),
    /^response( data| progress)* progress done$/,
    'the final progress event comes just before done',
  );

  const progress = events.filter((e) => e.event.type === 'progress');
  const final = progress.at(-1)!.event as ProgressEvent;
  t.deepEqual(final, {
    type: 'progress',
    downloaded: BODY.length,
    downloadTotal: BODY.length,
    uploaded: 0,
    uploadTotal: 0,
  });
  const elapsed = events.at(-1)!.at - events[0].at;
  t.log(`${progress.length} progress events over ${elapsed.toFixed(0)} ms`);
  // About 1 s at one event per 100 ms at most: a handful, never one per chunk or per callback.
  t.true(progress.length >= 3, `${progress.length} progress events`);
  t.true(progress.length <= Math.ceil(elapsed / 100) + 2, `${progress.length} progress events`);

  // Every event but the final one is at least ~100 ms after the one before.
  const intermediate = progress.slice(0, -1);
  for (let i = 1; i < intermediate.length; i++) {
    const gap = intermediate[i].at - intermediate[i - 1].at;
    t.true(gap >= 90, `progress events ${i - 1} and ${i} only ${gap.toFixed(1)} ms apart`);
  }
  // downloaded never goes backwards and never exceeds the body.
  for (const { event } of progress) {
    const p = event as ProgressEvent;
    t.true([p.downloaded, p.downloadTotal, p.uploaded, p.uploadTotal].every(Number.isSafeInteger));
  }
  const downloaded = progress.map((e) => (e.event as ProgressEvent).downloaded);
  t.deepEqual(
    downloaded,
    [...downloaded].sort((a, b) => a - b),
  );
  t.true(downloaded.every((n) => n <= BODY.length));
  t.true(
    intermediate.some((e) => {
      const p = e.event as ProgressEvent;
      return p.downloaded > 0 && p.downloaded < BODY.length && p.downloadTotal === BODY.length;
    }),
    'an intermediate event reports partial progress against the announced total',
  );

  const body = Buffer.concat(events.flatMap((e) => (e.event.type === 'data' ? [e.event.chunk] : [])));
  t.is(sha256(body), sha256(BODY));
});

test('without progress: true there are no progress events', async (t) => {
  const server = await serveSlowly(t);
  const curl = useCurl(t);
  const events = await lastValueFrom(curl.transfer(`${server.url}/slow`).pipe(toArray()));
  t.deepEqual(
    events.filter((e) => e.type === 'progress'),
    [],
  );
  t.is(events.at(-1)?.type, 'done');
  t.is(
    events.filter((e) => e.type === 'data').reduce((n, e) => n + (e.type === 'data' ? e.chunk.length : 0), 0),
    BODY.length,
  );
});

for (const framing of ['chunked', 'content-length'] as const) {
  test(`upload progress (${framing}): uploaded grows, and the final event's uploaded is the body size`, async (t) => {
    const server = await serveSlowly(t);
    const curl = useCurl(t);
    const chunks = Array.from({ length: 30 }, () => randomPayload(16 * 1024));
    const payload = Buffer.concat(chunks);
    let next = 0;
    const slow = new Readable({
      read() {
        setTimeout(() => this.push(next < chunks.length ? chunks[next++] : null), 20);
      },
    });
    const events = await lastValueFrom(
      curl
        .transfer({
          url: `${server.url}/up`,
          method: 'PUT',
          body: slow,
          progress: true,
          headers: framing === 'content-length' ? { 'content-length': String(payload.length) } : {},
        })
        .pipe(toArray()),
    );
    const progress = events.filter((e): e is ProgressEvent => e.type === 'progress');
    const uploaded = progress.map((p) => p.uploaded);
    t.log(`uploaded at each progress event: ${uploaded.join(', ')}`);
    t.true(progress.length >= 3, `${progress.length} progress events`);
    t.is(events.at(-2)?.type, 'progress');
    t.like(progress.at(-1), { uploaded: payload.length, uploadTotal: payload.length });
    t.deepEqual(
      uploaded,
      [...uploaded].sort((a, b) => a - b),
      'uploaded never goes backwards',
    );
    t.true(
      uploaded.every((n) => n <= payload.length),
      'uploaded counts body bytes only',
    );
    t.true(
      uploaded.some((n) => n > 0 && n < payload.length),
      'an intermediate event shows a partial upload',
    );
    const answer = Buffer.concat(events.flatMap((e) => (e.type === 'data' ? [e.chunk] : []))).toString();
    t.is(answer, `${payload.length} ${sha256(payload)}`);
  });
}

test('upload progress of a Uint8Array body: the final event has the uploaded totals and the answer downloaded', async (t) => {
  const server = await useServer(t, (req, res) => {
    req.resume();
    req.on('end', () => res.end('thanks'));
  });
  const curl = useCurl(t);
  const upload = randomPayload(2 * 1024 * 1024);
  const events = await lastValueFrom(
    curl.transfer({ url: `${server.url}/up`, body: upload, progress: true }).pipe(toArray()),
  );
  t.regex(events.map((e) => e.type).join(' '), /^(progress )*response( data| progress)* progress done$/);
  const progress = events.filter((e): e is ProgressEvent => e.type === 'progress');
  t.deepEqual(progress.at(-1), {
    type: 'progress',
    uploaded: upload.length,
    uploadTotal: upload.length,
    downloaded: 6,
    downloadTotal: 6,
  });
});
