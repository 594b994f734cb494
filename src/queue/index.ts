/**
 * rxcurl/queue: many machines sharing one list of transfers, through BullMQ on Redis (the optional
 * peer dependencies `bullmq` and `ioredis`, which only this entry point loads). `enqueue` adds one
 * job per URL (its id the URL's sha256), `runWorker` downloads them with rxcurl, and
 * `queueResults` reads every job's durable record.
 *
 * @example
 * ```ts
 * import { enqueue, queueResults, runWorker } from 'rxcurl/queue';
 *
 * const conn = { redis: 'redis://127.0.0.1:6379', queue: 'mirror' };
 * await enqueue(conn, ['https://example.com/a.iso', 'https://example.com/b.iso']);
 * const worker = runWorker({ ...conn, dir: '/data', concurrency: 32 });
 * worker.results$.subscribe((r) => console.log(r.ok, r.path, r.sha256));
 * queueResults(conn).subscribe((r) => console.log(r.url, r.bytes));
 * ```
 *
 * @module rxcurl/queue
 */
export { type EnqueueCounts, type EnqueueOptions, enqueue } from './enqueue.js';
export { jobId } from './jobId.js';
export { outputPath } from './outputPath.js';
export type { QueueConnection } from './QueueConnection.js';
export type { QueueResult } from './QueueResult.js';
export { queueResults } from './queueResults.js';
export { runUntilSignalled } from './runUntilSignalled.js';
export { type QueueWorker, type RunWorkerOptions, runWorker } from './runWorker.js';
