/** The workloads every client runs, and the bar rxcurl is held to on each (DESIGN.md, "Performance bar"). */
import { HOLD_BODY_BYTES, PAYLOADS, type Payload } from './nginx.js';

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
  /** Memory is the point: report RSS per transfer and RSS after the transfers. */
  memory: boolean;
  /** rxcurl's bar as ratios of throughput: at least this much of C's and of undici's. */
  bar?: { c: number; undici?: number };
}

const workload = (w: Omit<Workload, 'h2' | 'download' | 'memory'> & Partial<Workload>): Workload => ({
  h2: false,
  download: false,
  memory: false,
  ...w,
});

export const WORKLOADS: Workload[] = [
  workload({
    id: '1k',
    title: '1 KiB × 20,000, 64 in flight',
    path: '1k',
    total: 20_000,
    concurrency: 64,
    bar: { c: 0.6, undici: 1.5 },
  }),
  workload({
    id: '64k',
    title: '64 KiB × 5,000, 64 in flight',
    path: '64k',
    total: 5_000,
    concurrency: 64,
    bar: { c: 0.6, undici: 3 },
  }),
  workload({
    id: '256m',
    title: 'one 256 MiB body',
    path: '256m',
    total: 1,
    concurrency: 1,
    bar: { c: 0.85 },
  }),
  workload({
    id: '4x256m',
    title: 'four 256 MiB bodies in parallel',
    path: '256m',
    total: 4,
    concurrency: 4,
  }),
  workload({
    id: '1g',
    title: '1 GiB downloaded to a file',
    path: '1g',
    total: 1,
    concurrency: 1,
    download: true,
  }),
  workload({
    id: 'h2',
    title: '1 KiB × 20,000 over HTTP/2 + TLS, 64 streams on one connection',
    path: '1k',
    total: 20_000,
    concurrency: 64,
    h2: true,
    bar: { c: 0.5, undici: 3 },
  }),
  workload({
    id: '10k',
    title: '10,000 in flight, each held 2 s',
    path: 'hold',
    total: 10_000,
    concurrency: 10_000,
    memory: true,
  }),
];

export const bodyBytes = (w: Workload): number => (w.path === 'hold' ? HOLD_BODY_BYTES : PAYLOADS[w.path]);

/**
 * Transfers a Node.js client runs before measuring: as many as it then measures, so that the JIT
 * and the heap have settled and the figures describe a process that has been running for a while
 * (a tenth was not enough: rxcurl's CPU per request kept falling for ~40,000 transfers). None for
 * bulk or memory workloads.
 */
export const warmupOf = (w: Workload): number => (w.total >= 1000 && !w.memory ? w.total : 0);
