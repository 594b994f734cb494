import { type JobsOptions, Queue } from 'bullmq';
import type { CurlRequest } from '../api/CurlRequest.js';
import { CurlError } from '../errors/CurlError.js';
import { jobId } from './jobId.js';
import { KEY_PREFIX, openRedis, type QueueConnection, queueName } from './QueueConnection.js';

/**
 * Options of `enqueue()`.
 *
 * @example
 * ```ts
 * const options: EnqueueOptions = { attempts: 8, backoffMs: 2_000, priority: 1 };
 * ```
 */
export interface EnqueueOptions {
  /** Attempts of a job before it fails for good (transient failures only); default 5. */
  attempts?: number;
  /** The wait before the second attempt, doubled for each one after; default 1,000 ms. */
  backoffMs?: number;
  /** BullMQ's priority: 1 runs first, up to 2,097,152; default none (after every prioritized job). */
  priority?: number;
  /** Jobs per round trip to Redis; default 1,000. */
  batchSize?: number;
}

/**
 * What `enqueue()` did.
 *
 * @example
 * ```ts
 * const { submitted } = await enqueue(conn, urls);
 * ```
 */
export interface EnqueueCounts {
  /** URLs handed to Redis; one known to the queue already is not added again. */
  submitted: number;
  /** Round trips (`addBulk` calls). */
  batches: number;
}

/** The data of a job: the request, as JSON (a body or a signal do not survive the trip). */
export type JobData = CurlRequest;

/** The name of every job rxcurl adds. */
export const JOB_NAME = 'download';

/**
 * Adds one job per URL to the queue, `batchSize` at a time, each batch awaited before the next is
 * read: a file of ten million lines goes through in flat memory. The job id is the sha256 of the
 * URL, so a URL that the queue still knows (waiting, running, completed or failed) is not added again.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * import { createInterface } from 'node:readline';
 * import { enqueue } from 'rxcurl/queue';
 *
 * const lines = createInterface({ input: createReadStream('urls.txt') });
 * const { submitted } = await enqueue({ redis: 'redis://127.0.0.1:6379' }, lines, { attempts: 5 });
 * ```
 */
export async function enqueue(
  conn: QueueConnection,
  requests: Iterable<CurlRequest | string> | AsyncIterable<CurlRequest | string>,
  options: EnqueueOptions = {},
): Promise<EnqueueCounts> {
  const { attempts = 5, backoffMs = 1000, priority, batchSize = 1000 } = options;
  positiveInteger('attempts', attempts);
  positiveInteger('batchSize', batchSize);
  const opts: JobsOptions = {
    attempts,
    backoff: { type: 'exponential', delay: backoffMs },
    ...(priority !== undefined && { priority }),
  };
  const redis = openRedis(conn);
  const queue = new Queue<JobData>(queueName(conn), { connection: redis, prefix: KEY_PREFIX });
  const counts: EnqueueCounts = { submitted: 0, batches: 0 };
  let batch: { name: string; data: JobData; opts: JobsOptions }[] = [];
  const flush = async () => {
    await queue.addBulk(batch);
    counts.submitted += batch.length;
    counts.batches++;
    batch = [];
  };
  try {
    for await (const item of requests) {
      const request = typeof item === 'string' ? { url: item } : item;
      if (typeof request.url !== 'string' || request.url === '')
        throw CurlError.invalidInput('url', 'must be a non-empty string');
      batch.push({ name: JOB_NAME, data: request, opts: { ...opts, jobId: jobId(request.url) } });
      if (batch.length >= batchSize) await flush();
    }
    if (batch.length > 0) await flush();
    return counts;
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new CurlError('INVALID_INPUT', `enqueue: ${name} must be a positive integer, got ${value}`, '');
}
