/**
 * `npx tsx bench/queueMemory.ts [lines] [hosts]`: the memory of `TransferQueue.scheduleFrom()` over a
 * file of URLs, the README's figure for "a list of millions of URLs runs in flat memory".
 *
 * Writes `lines` URLs (default 10,000,000) over `hosts` hosts (default 1,000) to a temporary file,
 * then runs `queue.scheduleFrom(linesOf(file), project)` where `project` answers the URL on the next
 * turn of the event loop (setImmediate; RxJS's timer() would cap the run near 20,000 items/s): no transfer, so what is measured is the queue's own path (keys, lanes, the ready heap,
 * rate state, a full lookahead) and the line reader. The per-host limits are set but never bind.
 * Every 1M items it collects garbage and samples RSS, the JS heap, what the queue holds and how far
 * the reader has read ahead of it; it prints a markdown table.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Observable } from 'rxjs';
import { TransferQueue } from '../src/scheduling/TransferQueue.js';

const LINES = Number(process.argv[2] ?? 10_000_000);
const HOSTS = Number(process.argv[3] ?? 1_000);
const EVERY = 1_000_000;

// A collection before each sample, so the figures are what is kept rather than garbage not yet
// collected; without a flag on the command line.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
const urlOf = (i: number) => `http://host-${i % HOSTS}.example/item/${i}`;

async function writeUrls(path: string): Promise<void> {
  const out = createWriteStream(path);
  const batch: string[] = [];
  for (let i = 0; i < LINES; i++) {
    batch.push(urlOf(i));
    if (batch.length === 10_000 || i === LINES - 1) {
      if (!out.write(`${batch.join('\n')}\n`)) await once(out, 'drain');
      batch.length = 0;
    }
  }
  out.end();
  await once(out, 'finish');
}

/** The file's lines; readline's async iterator pauses the file stream while the consumer lags. */
function linesOf(path: string) {
  const input = createReadStream(path);
  const reader = {
    /** Bytes of the lines handed out (each with its newline), against input.bytesRead. */
    consumed: 0,
    input,
    async *lines(): AsyncGenerator<string> {
      for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
        reader.consumed += Buffer.byteLength(line) + 1;
        yield line;
      }
    },
  };
  return reader;
}

interface Sample {
  items: number;
  rss: number;
  heap: number;
  queued: number;
  active: number;
  readAhead: number;
  seconds: number;
}

const dir = mkdtempSync(join(tmpdir(), 'rxcurl-queue-memory-'));
try {
  const file = join(dir, 'urls.txt');
  process.stderr.write(`writing ${LINES.toLocaleString('en')} URLs over ${HOSTS} hosts to ${file}\n`);
  await writeUrls(file);
  process.stderr.write(`${(statSync(file).size / MiB).toFixed(0)} MiB; running\n`);

  // Items outlive a turn, so the lookahead fills; the per-host limits never bind (about ten items
  // of a host are in the window, a few hundred start a second) but keep each lane's state in play.
  const queue = new TransferQueue<string>({
    concurrency: 1_000,
    perHost: { concurrency: 64, ratePerSecond: 1_000_000, burst: 1_000 },
  });
  const project = (url: string) =>
    new Observable<string>((subscriber) => {
      const turn = setImmediate(() => {
        subscriber.next(url);
        subscriber.complete();
      });
      return () => clearImmediate(turn);
    });
  const reader = linesOf(file);
  gc();
  const baseline = { rss: process.memoryUsage.rss(), heap: process.memoryUsage().heapUsed };
  const samples: Sample[] = [];
  const began = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  // Time spent in the samples' collections is left out.
  let sampling = 0;
  const elapsed = () => Number(process.hrtime.bigint() - began) / 1e9 - sampling;
  let items = 0;
  await new Promise<void>((resolve, reject) => {
    queue.scheduleFrom(reader.lines(), project).subscribe({
      next: () => {
        if (++items % EVERY !== 0) return;
        const seconds = elapsed();
        gc();
        const { rss, heapUsed: heap } = process.memoryUsage();
        const { queued, active } = queue.stats();
        const readAhead = reader.input.bytesRead - reader.consumed;
        samples.push({ items, rss, heap, queued, active, readAhead, seconds });
        sampling += elapsed() - seconds;
        process.stderr.write(`${items / EVERY}M `);
      },
      error: reject,
      complete: resolve,
    });
  });
  const seconds = elapsed();
  const cpu = process.cpuUsage(cpuBefore);
  process.stderr.write('\n');

  const mib = (bytes: number) => (bytes / MiB).toFixed(1);
  console.log(
    `Node ${process.version}, ${LINES.toLocaleString('en')} URLs over ${HOSTS} hosts, lookahead 10,000`,
  );
  console.log(`baseline before the run: RSS ${mib(baseline.rss)} MiB, heap ${mib(baseline.heap)} MiB\n`);
  console.log(
    '| items | RSS MiB | heap MiB | RSS since 1M | queued | running | read ahead KiB | items/s (last 1M) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [i, s] of samples.entries()) {
    const last = i === 0 ? { items: 0, seconds: 0 } : samples[i - 1];
    const rate = (s.items - last.items) / (s.seconds - last.seconds);
    console.log(
      `| ${s.items / EVERY}M | ${mib(s.rss)} | ${mib(s.heap)} | ${mib(s.rss - samples[0].rss)} | ${s.queued} | ${s.active} | ${(s.readAhead / 1024).toFixed(0)} | ${Math.round(rate).toLocaleString('en')} |`,
    );
  }
  console.log(
    `\npeak RSS (sampled) ${mib(Math.max(...samples.map((s) => s.rss)))} MiB; process peak (maxRSS) ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`,
  );
  console.log(
    // Per CPU-second too: on a shared machine the wall-clock rate says as much about the neighbours.
    `${Math.round(items / seconds).toLocaleString('en')} items/s overall, ${Math.round(items / ((cpu.user + cpu.system) / 1e6)).toLocaleString('en')} per CPU-second (collections included); queue after: ${JSON.stringify(queue.stats())}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
