import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { filter, lastValueFrom, type Observable, tap, toArray } from 'rxjs';
import {
  type Curl,
  CurlError,
  type DataEvent,
  type TransferControl,
  type TransferEvent,
  toFile,
  transferControl,
} from '../../src/index.js';
import { generatedDigest, MiB, mb, sampleRss, writeGenerated } from '../helpers/bulk.js';
import { delay, randomPayload, sha256, useCurl, useServer, waitFor } from '../helpers/servers.js';

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'rxcurl-backpressure-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** /gen/<bytes> serves a generated body of that size, made lazily as the socket drains. */
function serveGenerated(t: ExecutionContext) {
  return useServer(t, (req, res) => {
    const size = Number(/^\/gen\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    writeGenerated(res, size).then(() => {
      if (!res.destroyed) res.end();
    });
  });
}

function fileDigest(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: MiB })
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

/**
 * A first transfer through toFile, so that what a process allocates once (JIT code, V8 heap pages,
 * koffi and libcurl buffers) is not counted as growth of the measured one.
 */
async function warmUp(curl: Curl, url: string, dir: string): Promise<void> {
  await lastValueFrom(curl.transfer(`${url}/gen/${8 * MiB}`).pipe(toFile(join(dir, 'warm-up.bin'))));
  rmSync(join(dir, 'warm-up.bin'));
}

/** Counts how often the transfer is paused, by wrapping the control of its first data event. */
function countPauses(source: Observable<TransferEvent>, counter: { pauses: number }) {
  let wrapped = false;
  return source.pipe(
    tap((event) => {
      if (wrapped || event.type !== 'data') return;
      wrapped = true;
      const control = transferControl(event) as TransferControl & { pause(): void };
      const pause = control.pause.bind(control);
      control.pause = () => {
        counter.pauses++;
        pause();
      };
    }),
  );
}

// First of the serial tests, on purpose: memory that earlier tests freed but the process kept would
// hide a pile-up from the RSS samples.
// A sink far slower than the network: a FIFO whose reader takes at most 64 KiB a millisecond,
// while loopback delivers several hundred MB/s. Without backpressure the body would pile up in
// the file stream's buffer; with it, RSS stays close to where it started.
(process.platform === 'linux' ? test.serial : test.skip)(
  'toFile into a deliberately slow sink (a throttled FIFO) keeps memory flat',
  async (t) => {
    t.timeout(60_000);
    const size = 64 * MiB;
    const server = await serveGenerated(t);
    const curl = useCurl(t);
    const dir = tempDir(t);
    const fifo = join(dir, 'slow.fifo');
    await warmUp(curl, server.url, dir);
    execFileSync('mkfifo', [fifo]);
    const hash = createHash('sha256');
    let received = 0;
    const drained = new Promise<void>((resolve, reject) => {
      const reader = createReadStream(fifo, { highWaterMark: 64 * 1024 });
      reader.on('data', (chunk) => {
        hash.update(chunk);
        received += chunk.length;
        reader.pause();
        setTimeout(() => reader.resume(), 1);
      });
      reader.on('end', resolve);
      reader.on('error', reject);
    });
    const counter = { pauses: 0 };
    const rss = sampleRss(20);
    const started = performance.now();
    const last = await lastValueFrom(
      countPauses(curl.transfer(`${server.url}/gen/${size}`), counter).pipe(toFile(fifo)),
    );
    await drained;
    const seconds = (performance.now() - started) / 1000;
    const memory = rss.stop();
    t.log(
      `toFile into a slow FIFO, ${size / MiB} MiB: ${seconds.toFixed(1)} s, ${counter.pauses} pauses, ` +
        `RSS peak growth ${mb(memory.growth)}`,
    );
    t.is(last.type, 'done');
    t.is(received, size);
    t.is(hash.digest('hex'), generatedDigest(size));
    t.true(counter.pauses > 0);
    // The whole body is 64 MiB; an unbounded buffer holds most of it (~90 MB growth, measured).
    t.true(memory.growth < 48 * MiB, `RSS grew by ${mb(memory.growth)}`);
  },
);

test.serial('pause() from a data event stops data events; resume() completes the body exactly', async (t) => {
  const body = randomPayload(50 * 1024 * 1024);
  let finished = false;
  const server = await useServer(t, (_req, res) => {
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
    res.on('finish', () => {
      finished = true;
    });
  });
  const curl = useCurl(t);
  const chunks: Buffer[] = [];
  let control: TransferControl | undefined;
  let pausedAt = -1;
  const done = lastValueFrom(
    curl.transfer(`${server.url}/big`).pipe(
      tap((event) => {
        if (event.type !== 'data') return;
        chunks.push(event.chunk);
        if (!control && chunks.length >= 3) {
          control = transferControl(event);
          control?.pause();
          pausedAt = chunks.length;
        }
      }),
      toArray(),
    ),
  );
  await waitFor(() => pausedAt > 0, 'the transfer to be paused');
  t.true(control?.paused);
  await delay(300);
  t.is(chunks.length, pausedAt, 'no data events for 300 ms after pause()');
  t.false(finished, 'the server could not hand the whole body to the kernel: the socket was not read');
  t.is(curl.stats().transfers, 1);
  control!.resume();
  t.false(control!.paused);
  const events = await done;
  t.is(events.at(-1)?.type, 'done');
  t.true(chunks.length > pausedAt);
  const received = Buffer.concat(chunks);
  t.is(received.length, body.length);
  t.is(sha256(received), sha256(body));
});

test('pausing and resuming many times in a row still delivers every byte in order', async (t) => {
  const body = randomPayload(8 * 1024 * 1024);
  const server = await useServer(t, (_req, res) => {
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  const curl = useCurl(t);
  let pauses = 0;
  const chunks = await lastValueFrom(
    curl.transfer(`${server.url}/`).pipe(
      filter((event): event is DataEvent => event.type === 'data'),
      tap((event) => {
        const control = transferControl(event)!;
        control.pause();
        pauses++;
        setTimeout(() => control.resume(), 1);
      }),
      toArray(),
    ),
  );
  const received = Buffer.concat(chunks.map((e) => e.chunk));
  t.true(pauses > 1);
  t.is(sha256(received), sha256(body));
});

async function toFileInBoundedMemory(t: ExecutionContext, size: number) {
  const server = await serveGenerated(t);
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'body.bin');
  await warmUp(curl, server.url, dir);
  const counter = { pauses: 0 };
  const rss = sampleRss(20);
  const started = performance.now();
  const events = await lastValueFrom(
    countPauses(curl.transfer(`${server.url}/gen/${size}`), counter).pipe(toFile(path), toArray()),
  );
  const seconds = (performance.now() - started) / 1000;
  const memory = rss.stop();
  t.log(
    `toFile ${size / MiB} MiB: ${seconds.toFixed(1)} s, ${counter.pauses} pauses, RSS baseline ` +
      `${mb(memory.baseline)}, peak ${mb(memory.peak)}, peak growth ${mb(memory.growth)}`,
  );
  t.deepEqual(
    events.map((e) => e.type),
    ['response', 'done'],
    'toFile passes on response and done, and keeps data',
  );
  t.is(statSync(path).size, size);
  t.true(counter.pauses > 0, 'toFile paused the transfer while the file stream was full');
  t.true(memory.growth < 300 * MiB, `RSS grew by ${mb(memory.growth)}`);
  t.is(await fileDigest(path), generatedDigest(size));
}

// About 3 s on a 2-core machine, so it is always on.
test.serial('toFile writes a 512 MiB body exactly, pausing the transfer, in bounded memory', async (t) => {
  t.timeout(180_000);
  await toFileInBoundedMemory(t, 512 * MiB);
});

test('toFile removes the file when the transfer fails mid-body', async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.writeHead(200, { 'content-length': 10 * MiB });
    res.write(randomPayload(MiB), () => setTimeout(() => res.destroy(), 30));
  });
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'broken.bin');
  let existedWhileRunning = false;
  let existsAtError: boolean | undefined;
  const err = await t.throwsAsync(
    lastValueFrom(
      curl.transfer(`${server.url}/`).pipe(
        tap((event) => {
          if (event.type === 'data') existedWhileRunning ||= existsSync(path);
        }),
        toFile(path),
        tap({ error: () => (existsAtError = existsSync(path)) }),
      ),
    ),
  );
  t.true(err instanceof CurlError, String(err));
  t.true([18, 56].includes((err as CurlError).code as number), `code ${(err as CurlError).code}`);
  t.false(existsAtError, 'the file is gone by the time the error is delivered');
  t.deepEqual(readdirSync(dir), []);
  t.log(`file existed while running: ${existedWhileRunning}`);
});

test('toFile removes the file when unsubscribed mid-body', async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.writeHead(200, { 'content-length': 10 * MiB });
    res.write(randomPayload(MiB)); // and then nothing
  });
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'cancelled.bin');
  let bytes = 0;
  const subscription = curl
    .transfer(`${server.url}/`)
    .pipe(
      tap((event) => {
        if (event.type === 'data') bytes += event.chunk.length;
      }),
      toFile(path),
    )
    .subscribe();
  await waitFor(() => bytes === MiB && existsSync(path), 'the first MiB to arrive');
  subscription.unsubscribe();
  await waitFor(() => !existsSync(path), 'the file to be removed');
  t.deepEqual(readdirSync(dir), []);
  t.is(curl.stats().transfers, 0);
});
