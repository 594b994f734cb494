import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { filter, lastValueFrom, type Observable, tap, toArray } from 'rxjs';
import {
  CurlError,
  type DataEvent,
  type TransferControl,
  type TransferEvent,
  toFile,
  transferControl,
} from '../../src/index.js';
import { fileDigest, generatedDigest, MiB, writeGenerated } from '../helpers/bulk.js';
import { delay, randomPayload, sha256, useCurl, useServer, useTempDir, waitFor } from '../helpers/servers.js';

// Memory figures (RSS) of these transfers are the bench's to measure (bench/workloads.ts), not a
// test's: here flow control is checked by what it guarantees, in bytes. toFile() pauses the
// transfer while its file stream holds FILE_BUFFER_BYTES or more (src/operators/toFile.ts), so the
// bytes handed to toFile() but not yet written stay under that plus a chunk, whatever the speed of
// the disk or of the network. The bounds below allow twice that.

/** The file stream's highWaterMark in toFile(): the buffer it lets fill before pausing the transfer. */
const FILE_BUFFER_BYTES = MiB;

const tempDir = (t: ExecutionContext) => useTempDir(t, 'rxcurl-backpressure-');

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

interface FlowCounter {
  pauses: number;
  resumes: number;
  /** Body bytes of the data events so far, and the largest of those events. */
  delivered: number;
  largestChunk: number;
}

/**
 * Counts the data handed on and how often the transfer is paused and resumed, by wrapping the
 * control of its first data event. `onData` runs after each data event is counted.
 */
function countFlow(source: Observable<TransferEvent>, counter: FlowCounter, onData: () => void = () => {}) {
  let wrapped = false;
  return source.pipe(
    tap((event) => {
      if (event.type !== 'data') return;
      counter.delivered += event.chunk.length;
      counter.largestChunk = Math.max(counter.largestChunk, event.chunk.length);
      onData();
      if (wrapped) return;
      wrapped = true;
      const control = transferControl(event) as TransferControl & { pause(): void; resume(): void };
      const pause = control.pause.bind(control);
      const resume = control.resume.bind(control);
      control.pause = () => {
        counter.pauses++;
        pause();
      };
      control.resume = () => {
        counter.resumes++;
        resume();
      };
    }),
  );
}

const newCounter = (): FlowCounter => ({ pauses: 0, resumes: 0, delivered: 0, largestChunk: 0 });

// A sink far slower than the network: a FIFO whose reader takes at most 64 KiB a millisecond,
// while loopback delivers several hundred MB/s. Without backpressure the body would pile up in the
// file stream's buffer; with it, what was handed to toFile() but not yet read from the FIFO stays
// within toFile()'s buffer, the FIFO's and the reader's.
(process.platform === 'linux' ? test.serial : test.skip)(
  'toFile into a deliberately slow sink (a throttled FIFO) pauses the transfer: what waits for the sink stays bounded',
  async (t) => {
    t.timeout(60_000);
    const size = 64 * MiB;
    const readerBuffer = 64 * 1024;
    const server = await serveGenerated(t);
    const curl = useCurl(t);
    const dir = tempDir(t);
    const fifo = join(dir, 'slow.fifo');
    execFileSync('mkfifo', [fifo]);
    const hash = createHash('sha256');
    let received = 0;
    const drained = new Promise<void>((resolve, reject) => {
      const reader = createReadStream(fifo, { highWaterMark: readerBuffer });
      reader.on('data', (chunk) => {
        hash.update(chunk);
        received += chunk.length;
        reader.pause();
        setTimeout(() => reader.resume(), 1);
      });
      reader.on('end', resolve);
      reader.on('error', reject);
    });
    const counter = newCounter();
    let waiting = 0;
    const last = await lastValueFrom(
      countFlow(curl.transfer(`${server.url}/gen/${size}`), counter, () => {
        waiting = Math.max(waiting, counter.delivered - received);
      }).pipe(toFile(fifo)),
    );
    await drained;
    // toFile()'s buffer with the chunk that overflowed it (twice over), the FIFO (at most
    // fs.pipe-max-size), and the reader's buffer with the chunk it holds.
    const pipeMax = Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8'));
    const bound = 2 * (FILE_BUFFER_BYTES + counter.largestChunk) + pipeMax + 2 * readerBuffer;
    t.log(
      `toFile into a slow FIFO, ${size / MiB} MiB: ${counter.pauses} pauses, at most ` +
        `${(waiting / MiB).toFixed(2)} MiB waiting for the reader (bound ${(bound / MiB).toFixed(2)} MiB)`,
    );
    t.is(last.type, 'done');
    t.is(received, size);
    t.is(hash.digest('hex'), generatedDigest(size));
    t.true(counter.pauses > 0, 'the transfer was paused');
    t.is(counter.resumes, counter.pauses, 'and resumed as often');
    t.true(waiting <= bound, `${waiting} bytes waited for the reader (bound ${bound})`);
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

// About 3 s on a 2-core machine, so it is always on. The file's size on disk at each data event
// shows how much toFile() holds: never more than its buffer and a chunk or two.
test.serial(
  'toFile writes a 512 MiB body exactly, pausing the transfer so that what it holds in memory stays bounded',
  async (t) => {
    t.timeout(180_000);
    const size = 512 * MiB;
    const server = await serveGenerated(t);
    const curl = useCurl(t);
    const dir = tempDir(t);
    const path = join(dir, 'body.bin');
    const counter = newCounter();
    let held = 0;
    const events = await lastValueFrom(
      countFlow(curl.transfer(`${server.url}/gen/${size}`), counter, () => {
        const onDisk = existsSync(path) ? statSync(path).size : 0;
        held = Math.max(held, counter.delivered - onDisk);
      }).pipe(toFile(path), toArray()),
    );
    const bound = 2 * (FILE_BUFFER_BYTES + counter.largestChunk);
    t.log(
      `toFile ${size / MiB} MiB: ${counter.pauses} pauses, at most ${(held / MiB).toFixed(2)} MiB ` +
        `not yet on disk (bound ${(bound / MiB).toFixed(2)} MiB)`,
    );
    t.deepEqual(
      events.map((e) => e.type),
      ['response', 'done'],
      'toFile passes on response and done, and keeps data',
    );
    t.is(statSync(path).size, size);
    t.true(counter.pauses > 0, 'toFile paused the transfer while the file stream was full');
    t.is(counter.resumes, counter.pauses, 'and resumed it as often');
    t.true(held <= bound, `${held} bytes handed to toFile() were not on disk yet (bound ${bound})`);
    t.is(await fileDigest(path), generatedDigest(size));
  },
);

test('toFile removes the file when the transfer fails mid-body', async (t) => {
  // The server sends 1 MiB of a 10 MiB body, then waits; it resets the connection only once the
  // file is on disk with bytes in it.
  let response: ServerResponse | undefined;
  const server = await useServer(t, (_req, res) => {
    res.writeHead(200, { 'content-length': 10 * MiB });
    res.write(randomPayload(MiB));
    response = res;
  });
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'broken.bin');
  let existsAtError: boolean | undefined;
  const failed = t.throwsAsync(
    lastValueFrom(
      curl
        .transfer(`${server.url}/`)
        .pipe(toFile(path), tap({ error: () => (existsAtError = existsSync(path)) })),
    ),
  );
  await waitFor(() => existsSync(path) && statSync(path).size > 0, 'the first bytes on disk');
  t.deepEqual(readdirSync(dir), ['broken.bin'], 'the file exists while the transfer runs');
  response!.destroy();
  const err = await failed;
  t.true(err instanceof CurlError, String(err));
  t.true([18, 56].includes((err as CurlError).code as number), `code ${(err as CurlError).code}`);
  t.false(existsAtError, 'the file is gone by the time the error is delivered');
  t.deepEqual(readdirSync(dir), []);
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
  await waitFor(
    () => bytes === MiB && existsSync(path) && statSync(path).size === MiB,
    'the first MiB on disk',
  );
  subscription.unsubscribe();
  await waitFor(() => !existsSync(path), 'the file to be removed');
  t.deepEqual(readdirSync(dir), []);
  t.is(curl.stats().transfers, 0);
});
