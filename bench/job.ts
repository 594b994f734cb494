/**
 * What the orchestrator asks of one client process, what the process reports back, and the harness
 * the Node.js clients (rxcurl, undici, fetch) share. Compiled with the clients (bench/tsconfig.json)
 * so they run on plain `node`, without tsx's loader in the measured process.
 */

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
}

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

const rssKb = (): number => Math.round(process.memoryUsage.rss() / 1024);

const collectGarbage = (): void => (globalThis as { gc?: () => void }).gc?.();

/**
 * The main program of a Node.js client: reads the job from argv[2], sets the client up, warms it up,
 * measures `job.total` transfers and prints a Measurement. Run with --expose-gc for stable RSS figures.
 */
export async function runNodeClient(setup: (job: Job) => NodeClient): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as Job;
  const client = setup(job);
  if (job.warmup > 0) await client.run(job.warmup);
  collectGarbage();
  const baselineRssKb = rssKb();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const tally = await client.run(job.total);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  collectGarbage();
  const measurement: Measurement = {
    ...tally,
    seconds,
    cpuUs: cpu.user + cpu.system,
    peakRssKb: process.resourceUsage().maxRSS,
    baselineRssKb,
    afterRssKb: rssKb(),
  };
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
  await client.close();
}
