/**
 * The workloads every client runs, and the bar rxcurl is held to on each: ratios to node-libcurl,
 * undici or C taken within one run (the performance issue of the second round; DESIGN.md).
 */
import { HOLD_BODY_BYTES, PAYLOADS, type Payload } from './nginx.js';

/**
 * One condition of rxcurl's bar: `client`'s metric ÷ `versus`'s within each run, the median over
 * runs; without `versus`, the median of the metric itself.
 */
export interface Bar {
  /** The rxcurl client held to it: `transfer()` + `mergeMap`, `requestAll()`, or `transfer()` through a `TransferQueue`. */
  client: 'rxcurl' | 'rxcurl-all' | 'rxcurl-queue';
  versus?: string;
  /** Throughput: at least `ratio`. RSS per transfer, what close() leaves, wall time: at most `ratio`. */
  metric: 'reqPerSec' | 'mbPerSec' | 'rssPerTransferKiB' | 'keptAfterClose' | 'wallMs';
  ratio: number;
}

/** The same condition for both rxcurl clients. */
const both = (versus: string | undefined, metric: Bar['metric'], ratio: number): Bar[] =>
  (['rxcurl', 'rxcurl-all'] as const).map((client) => ({
    client,
    metric,
    ratio,
    ...(versus === undefined ? {} : { versus }),
  }));

export interface Workload {
  id: string;
  title: string;
  /** A payload file, or the location that holds each response 2 s. */
  path: Payload | 'hold';
  total: number;
  concurrency: number;
  /** HTTP/2 over TLS, multiplexed on one connection; else HTTP/1.1 keep-alive in clear text. */
  h2: boolean;
  /** Bodies go to a file (rxcurl: `download()`). */
  download: boolean;
  /** Memory is the point: report RSS per transfer, after the transfers and after close. */
  memory: boolean;
  /** A fresh process timed from spawn to exit, module loading included, with no warm-up. */
  cold: boolean;
  bar: Bar[];
}

const workload = (
  w: Omit<Workload, 'h2' | 'download' | 'memory' | 'cold' | 'bar'> & Partial<Workload>,
): Workload => ({
  h2: false,
  download: false,
  memory: false,
  cold: false,
  bar: [],
  ...w,
});

export const WORKLOADS: Workload[] = [
  workload({
    id: '1k',
    title: '1 KiB × 20,000, 64 in flight',
    path: '1k',
    total: 20_000,
    concurrency: 64,
    bar: [
      { client: 'rxcurl-all', versus: 'node-libcurl', metric: 'reqPerSec', ratio: 1.5 },
      { client: 'rxcurl-all', versus: 'undici', metric: 'reqPerSec', ratio: 1 },
      { client: 'rxcurl', versus: 'node-libcurl', metric: 'reqPerSec', ratio: 1 },
      { client: 'rxcurl-queue', versus: 'rxcurl', metric: 'reqPerSec', ratio: 0.9 },
    ],
  }),
  workload({
    id: '64k',
    title: '64 KiB × 5,000, 64 in flight',
    path: '64k',
    total: 5_000,
    concurrency: 64,
    bar: [...both('node-libcurl', 'reqPerSec', 1.3), ...both('undici', 'reqPerSec', 1.5)],
  }),
  workload({
    id: '256m',
    title: 'one 256 MiB body',
    path: '256m',
    total: 1,
    concurrency: 1,
    bar: both('node-libcurl', 'mbPerSec', 1.2),
  }),
  workload({
    id: '4x256m',
    title: 'four 256 MiB bodies in parallel',
    path: '256m',
    total: 4,
    concurrency: 4,
    bar: both('node-libcurl', 'mbPerSec', 1.2),
  }),
  workload({
    id: '1g',
    title: '1 GiB downloaded to a file',
    path: '1g',
    total: 1,
    concurrency: 1,
    download: true,
    bar: [{ client: 'rxcurl', versus: 'c', metric: 'mbPerSec', ratio: 0.9 }],
  }),
  workload({
    id: 'h2',
    title: '1 KiB × 20,000 over HTTP/2 + TLS, 64 streams on one connection',
    path: '1k',
    total: 20_000,
    concurrency: 64,
    h2: true,
    bar: [
      { client: 'rxcurl-all', versus: 'node-libcurl', metric: 'reqPerSec', ratio: 1.2 },
      { client: 'rxcurl-all', versus: 'undici', metric: 'reqPerSec', ratio: 3 },
      { client: 'rxcurl', versus: 'node-libcurl', metric: 'reqPerSec', ratio: 1 },
      { client: 'rxcurl-queue', versus: 'rxcurl', metric: 'reqPerSec', ratio: 0.9 },
    ],
  }),
  workload({
    id: '10k',
    title: '10,000 in flight, each held 2 s',
    path: 'hold',
    total: 10_000,
    concurrency: 10_000,
    memory: true,
    // "All released after close": RSS after close() and a GC is back within a tenth of the growth.
    bar: [
      ...both('undici', 'rssPerTransferKiB', 1),
      ...both('node-libcurl', 'rssPerTransferKiB', 1),
      ...both(undefined, 'keptAfterClose', 0.1),
    ],
  }),
  workload({
    id: 'cold',
    title: 'a fresh process, 1 KiB × 1,000, 64 in flight: wall time from spawn to exit',
    path: '1k',
    total: 1000,
    concurrency: 64,
    cold: true,
    bar: both('undici', 'wallMs', 1),
  }),
];

export const bodyBytes = (w: Workload): number => (w.path === 'hold' ? HOLD_BODY_BYTES : PAYLOADS[w.path]);

/**
 * Transfers a Node.js client runs before measuring: as many as it then measures, so that the JIT
 * and the heap have settled and the figures describe a process that has been running for a while
 * (a tenth was not enough: rxcurl's CPU per request kept falling for ~40,000 transfers). None for
 * bulk, memory or cold workloads.
 */
export const warmupOf = (w: Workload): number => (w.total >= 1000 && !w.memory && !w.cold ? w.total : 0);
