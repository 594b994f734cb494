import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { filter, lastValueFrom, type Observable, Subject } from 'rxjs';
import type { DownloadEvent } from '../api/DownloadEvent.js';
import { Curl, type CurlOptions, HttpError, type PerKeyLimits } from '../index.js';
import type { JobData } from './enqueue.js';
import { fileDigest } from './fileDigest.js';
import { HostLimiter } from './HostLimiter.js';
import { isPermanent } from './isPermanent.js';
import { outputPath } from './outputPath.js';
import { KEY_PREFIX, openRedis, type QueueConnection, queueName, resultsKey } from './QueueConnection.js';
import type { QueueResult } from './QueueResult.js';

/**
 * Options of `runWorker()`: the queue, where files go, and how many jobs run at once.
 *
 * @example
 * ```ts
 * const options: RunWorkerOptions = { redis: 'redis://127.0.0.1:6379', dir: '/data', concurrency: 32 };
 * ```
 */
export interface RunWorkerOptions extends QueueConnection {
  /** Where files go: `<dir>/<2 hex>/<job id>` (see `outputPath`). */
  dir: string;
  /** Jobs running at once; the worker takes no job beyond them. Default 16. */
  concurrency?: number;
  /**
   * Per-host limits held across every worker of the queue (as TransferQueue's, through Redis: see
   * `HostLimiter`); every worker of a queue should be given the same.
   */
  perHost?: PerKeyLimits;
  /** How long `close()` lets running jobs finish before it puts them back in the queue; default 30,000 ms. */
  drainTimeoutMs?: number;
  /**
   * How long a job stays locked to this worker without a renewal (renewed every half of it): a
   * killed worker's jobs go to the others once it lapses. Default 30,000 ms.
   */
  lockDurationMs?: number;
  /** How often the worker looks for jobs whose lock lapsed; default 30,000 ms. */
  stalledIntervalMs?: number;
  /** Options of the worker's Curl (its `defaults` apply to every job's request). */
  curl?: CurlOptions;
}

/**
 * A running worker (see `runWorker`).
 *
 * @example
 * ```ts
 * const worker = runWorker({ redis: 'redis://127.0.0.1:6379', dir: '/data' });
 * worker.results$.subscribe((r) => console.log(r.ok, r.url));
 * process.once('SIGTERM', () => void worker.close());
 * ```
 */
export interface QueueWorker {
  /** This worker's records, as each is written; completes after `close()`. */
  readonly results$: Observable<QueueResult>;
  /** What BullMQ reports and recovers from itself (a lost connection, a lock it could not renew). */
  readonly errors$: Observable<Error>;
  /**
   * Stops taking jobs, lets the running ones finish until `drainTimeoutMs`, then cancels the rest
   * and puts them back in the queue (their partial files stay, for the next worker to continue),
   * and closes the connections.
   */
  close(): Promise<void>;
}

/** Why the worker cancels a job: it stays in the queue, for this worker or another. */
const DRAIN_TIMEOUT = 'drain timeout: back to the queue';
const LOCK_LOST = 'lock lost: another worker has the job';

/**
 * Runs jobs of the queue: each downloads its URL with rxcurl's `download()` (a partial file beside
 * the destination, renamed once complete; a partial file left by an earlier attempt is continued
 * with a range request), reads the file's sha256 and size, writes the job's result record, and only
 * then completes the job. A 4xx other than 408 and 429, or an invalid URL, fails the job for good
 * (BullMQ's failed set, with the reason, and a record with `ok: false`); other failures go back to
 * BullMQ's attempts and backoff, and the last one writes the `ok: false` record.
 *
 * @example
 * ```ts
 * import { runUntilSignalled, runWorker } from 'rxcurl/queue';
 *
 * const worker = runWorker({ redis: 'redis://127.0.0.1:6379', dir: '/data', concurrency: 32 });
 * worker.results$.subscribe((r) => console.log(r.ok ? `${r.bytes} ${r.url}` : `${r.url}: ${r.error}`));
 * await runUntilSignalled(worker); // SIGTERM: drain, requeue what is left, then resolve
 * ```
 */
export function runWorker(options: RunWorkerOptions): QueueWorker {
  const { dir, concurrency = 16, drainTimeoutMs = 30_000 } = options;
  const results = new Subject<QueueResult>();
  const errors = new Subject<Error>();
  const curl = new Curl(options.curl);
  const redis = openRedis(options);
  const records = resultsKey(options);
  // No limit given (the CLI passes its flags, each possibly unset): no round trip to ask for one.
  const { perHost } = options;
  const limiter =
    perHost === undefined || Object.values(perHost).every((limit) => limit === undefined)
      ? undefined
      : new HostLimiter(redis, `${KEY_PREFIX}:${queueName(options)}`, perHost);

  const record = async (result: QueueResult) => {
    await redis.hset(records, result.id, JSON.stringify(result));
    results.next(result);
  };

  const processor = async (job: Job<JobData>, token: string | undefined, signal?: AbortSignal) => {
    const id = job.id as string;
    const { url } = job.data;
    const path = outputPath(dir, id);
    const attempts = job.attemptsMade + 1;
    try {
      await mkdir(dirname(path), { recursive: true });
      // The host's limits across the fleet: the slot is held for the transfer only.
      const lease = await limiter?.acquire(url, signal);
      let done: DoneEvent;
      try {
        done = await lastValueFrom(
          curl.download({ ...job.data, resume: true, signal }, path).pipe(filter(isDone)),
        );
      } finally {
        await lease?.release();
      }
      const { sha256, bytes } = await fileDigest(path);
      await record({ id, url, ok: true, path, bytes, sha256, status: done.result.status, attempts });
    } catch (error) {
      if (signal?.aborted) {
        // WaitingError: BullMQ leaves the job's state as it is now (back in wait, or another's).
        if (signal.reason === DRAIN_TIMEOUT) await job.moveToWait(token);
        throw new WaitingError(String(signal.reason));
      }
      const permanent = isPermanent(error);
      const message = error instanceof Error ? error.message : String(error);
      if (permanent || attempts >= (job.opts.attempts ?? 1)) {
        const status = error instanceof HttpError ? error.status : 0;
        await record({ id, url, ok: false, bytes: 0, status, attempts, error: message });
      }
      throw permanent ? new UnrecoverableError(message) : error;
    }
  };

  const worker = new Worker<JobData>(queueName(options), processor, {
    connection: redis,
    prefix: KEY_PREFIX,
    concurrency,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
  });
  worker.on('error', (error) => errors.next(error));
  // The job may already run elsewhere: stop writing to the partial file the other worker continues.
  worker.on('lockRenewalFailed', (ids) => {
    for (const id of ids) worker.cancelJob(id, LOCK_LOST);
  });

  let closing: Promise<void> | undefined;
  const close = async () => {
    // BullMQ's close() stops fetching and waits for the running jobs; the timer cuts that short.
    const timer = setTimeout(() => worker.cancelAllJobs(DRAIN_TIMEOUT), drainTimeoutMs);
    try {
      await worker.close();
    } finally {
      clearTimeout(timer);
      await curl.close();
      redis.disconnect();
      results.complete();
      errors.complete();
    }
  };
  return {
    results$: results.asObservable(),
    errors$: errors.asObservable(),
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

type DoneEvent = Extract<DownloadEvent, { type: 'done' }>;

function isDone(event: DownloadEvent): event is DoneEvent {
  return event.type === 'done';
}
