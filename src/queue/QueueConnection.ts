import { Redis } from 'ioredis';

/**
 * Where a queue lives: a Redis URL and the queue's name (default `'rxcurl'`). Every key of the
 * queue starts with `rxcurl:<queue>:` (BullMQ's keys and the result records alike).
 *
 * @example
 * ```ts
 * const conn: QueueConnection = { redis: 'redis://127.0.0.1:6379', queue: 'mirror' };
 * await enqueue(conn, ['https://example.com/a.iso']);
 * ```
 */
export interface QueueConnection {
  /** A Redis URL: `redis://[user:password@]host:port[/db]`. */
  redis: string;
  /** The queue's name; default `'rxcurl'`. */
  queue?: string;
}

/** BullMQ's key prefix for rxcurl's queues, instead of its default `bull`. */
export const KEY_PREFIX = 'rxcurl';

/** The queue's name, defaulted. */
export function queueName(conn: QueueConnection): string {
  return conn.queue ?? 'rxcurl';
}

/** The hash of durable result records: field = job id, value = a QueueResult as JSON. */
export function resultsKey(conn: QueueConnection): string {
  return `${KEY_PREFIX}:${queueName(conn)}:results`;
}

/**
 * A connection of its own, closed by whoever opened it. `maxRetriesPerRequest: null`: BullMQ's
 * workers block on Redis and must wait out a reconnection rather than fail the command.
 */
export function openRedis(conn: QueueConnection): Redis {
  return new Redis(conn.redis, { maxRetriesPerRequest: null });
}
