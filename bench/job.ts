/**
 * What the orchestrator asks of one client process, what the process reports back, and the harness
 * the Node.js clients (rxcurl, rxcurl-queue, rxcurl-all, floor, node-libcurl, undici, fetch) share. Compiled with
 * the clients (bench/tsconfig.json) so they run on plain `node`, without tsx's loader in the measured
 * process.
 */
import { closeSync, openSync } from 'node:fs';
import type { CurlRequest } from 'rxcurl';

/** One client process runs one job. */
export interface Job {
  url: string;
  /** Transfers to measure. */
  total: number;
  /** Transfers in flight at once. */
  concurrency: number;
  /** HTTP/2 over TLS (self-signed certificate: no verification), multiplexed on one connection. */
  h2: boolean;
  /** Write the body to this file (the download workload) instead of only counting it. */
  outFile?: string;
  /** Transfers run (and not measured) before the measured ones; Node.js clients only, for the JIT. */
  warmup: number;
  /**
   * A fresh process timed by the orchestrator from spawn to exit, module loading included (a command
   * line's case): no warm-up and no forced garbage collection in the process.
   */
  cold: boolean;
  /**
   * Memory is the point: RSS after close is read after `malloc_trim(0)`, so that memory the allocator
   * keeps free for later does not count as memory the client kept.
   */
  memory: boolean;
}

/** A client's report: one JSON line on standard output. */
export interface Measurement {
  /** Transfers completed, whatever their status. */
  requests: number;
  /** Body bytes received. */
  bytes: number;
  /** Transfers that failed or answered a status other than 200. */
  failures: number;
  seconds: number;
  /** Client CPU time, user + system. */
  cpuUs: number;
  peakRssKb: number;
  /** RSS before the first measured transfer and after the last one (after a GC for Node.js clients). */
  baselineRssKb?: number;
  afterRssKb?: number;
  /** RSS once the client was closed (after a GC for Node.js clients, and malloc_trim on memory jobs). */
  closedRssKb?: number;
  /**
   * Node.js clients: heap V8 has committed but does not use (heapTotal − heapUsed), before the first
   * measured transfer and after close. V8 gives such pages back only lazily, so it does not count as
   * memory the client kept.
   */
  baselineHeapFreeKb?: number;
  closedHeapFreeKb?: number;
}

/** CURLOPT_BUFFERSIZE of every libcurl client, as curl's command line sets it (libcurl's default is 16 KiB). */
export const RECEIVE_BUFFER_BYTES = 102_400;

/** The HTTP version every transfer of the job must answer with: libcurl's CURL_HTTP_VERSION_* and its name. */
export const httpVersionOf = (job: Job): { curl: number; name: '1.1' | '2' } =>
  job.h2 ? { curl: 3, name: '2' } : { curl: 2, name: '1.1' };

/** The request of the rxcurl clients: HTTP/2 asked for, and no certificate checks, on the h2 workload. */
export const rxcurlRequest = (job: Job): CurlRequest =>
  job.h2 ? { url: job.url, httpVersion: '2', tls: { insecure: true } } : { url: job.url };

/** What one Node.js client run of `count` transfers counted. */
export interface Tally {
  requests: number;
  bytes: number;
  failures: number;
}

export interface NodeClient {
  run(count: number): Promise<Tally>;
  close(): Promise<void>;
}

/**
 * Runs `count` transfers with at most `concurrency` at once and tallies them: `transfer` counts
 * the bytes it receives into the tally and resolves to the status; a rejection is a failure.
 */
export async function tallyInParallel(
  count: number,
  concurrency: number,
  transfer: (tally: Tally) => Promise<number>,
): Promise<Tally> {
  const tally: Tally = { requests: 0, bytes: 0, failures: 0 };
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      const status = await transfer(tally).catch(() => 0);
      if (status !== 200) tally.failures++;
      tally.requests++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, concurrency) }, worker));
  return tally;
}

/**
 * Transfers on slots that are reused (an easy handle each) for the clients that drive libcurl by
 * hand (floor, node-libcurl). `run(count)` creates slots up to the job's concurrency with `create`
 * and calls `start(slot)` to begin a transfer on one; while it runs, the client counts body bytes into
 * `tally` (and writes them to `file`, the job's `outFile` opened for the run) and calls
 * `finished(slot, ok)` when a transfer ends, which starts the next one on the same slot until `count`
 * have started. `run` resolves once `count` have finished.
 */
export class SlotPool<Slot> {
  readonly slots: Slot[] = [];
  /** The run under way; undefined between runs. */
  tally: Tally | undefined;
  file: number | undefined;
  private count = 0;
  private started = 0;
  private settle: ((tally: Tally) => void) | undefined;

  constructor(
    private readonly job: Job,
    private readonly create: () => Slot,
    private readonly start: (slot: Slot) => void,
  ) {}

  run(count: number): Promise<Tally> {
    const tally: Tally = { requests: 0, bytes: 0, failures: 0 };
    if (count === 0) return Promise.resolve(tally);
    while (this.slots.length < Math.min(count, this.job.concurrency)) this.slots.push(this.create());
    this.tally = tally;
    this.count = count;
    this.started = 0;
    this.file = this.job.outFile === undefined ? undefined : openSync(this.job.outFile, 'w');
    const done = new Promise<Tally>((resolve) => (this.settle = resolve));
    for (const slot of this.slots.slice(0, count)) this.next(slot);
    return done;
  }

  finished(slot: Slot, ok: boolean): void {
    const tally = this.tally;
    if (tally === undefined) return;
    tally.requests++;
    if (!ok) tally.failures++;
    if (this.started < this.count) this.next(slot);
    else if (tally.requests === this.count) {
      if (this.file !== undefined) closeSync(this.file);
      this.tally = this.file = undefined;
      this.settle?.(tally);
    }
  }

  private next(slot: Slot): void {
    this.started++;
    this.start(slot);
  }
}

const rssKb = (): number => Math.round(process.memoryUsage.rss() / 1024);

const heapFreeKb = (): number => {
  const { heapTotal, heapUsed } = process.memoryUsage();
  return Math.round((heapTotal - heapUsed) / 1024);
};

/** glibc's malloc_trim (through koffi, loaded before the baseline is read), or nothing elsewhere. */
async function mallocTrim(): Promise<() => void> {
  try {
    const { default: koffi } = await import('koffi');
    const trim = koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as (pad: number) => number;
    return () => trim(0);
  } catch {
    return () => {};
  }
}

const collectGarbage = (): void => (globalThis as { gc?: () => void }).gc?.();

/**
 * The main program of a Node.js client: reads the job from argv[2], sets the client up, warms it up,
 * measures `job.total` transfers, closes the client and prints a Measurement. Run with --expose-gc
 * for stable RSS figures (a cold job forces no collection: it is timed from spawn to exit).
 */
export async function runNodeClient(setup: (job: Job) => NodeClient): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as Job;
  const gc = job.cold ? () => {} : collectGarbage;
  const trim = job.memory ? await mallocTrim() : () => {};
  const client = setup(job);
  if (job.warmup > 0) await client.run(job.warmup);
  gc();
  const baselineRssKb = rssKb();
  const baselineHeapFreeKb = heapFreeKb();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const tally = await client.run(job.total);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  gc();
  const afterRssKb = rssKb();
  await client.close();
  // Handles closed by close() are freed by their close callbacks, on the next turns of the loop (a
  // cold job is timed to its exit: it does not wait).
  if (!job.cold) await new Promise((resolve) => setTimeout(resolve, 100));
  gc();
  trim();
  const measurement: Measurement = {
    ...tally,
    seconds,
    cpuUs: cpu.user + cpu.system,
    peakRssKb: process.resourceUsage().maxRSS,
    baselineRssKb,
    afterRssKb,
    closedRssKb: rssKb(),
    baselineHeapFreeKb,
    closedHeapFreeKb: heapFreeKb(),
  };
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}
