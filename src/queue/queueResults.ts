import { Observable } from 'rxjs';
import { openRedis, type QueueConnection, resultsKey } from './QueueConnection.js';
import type { QueueResult } from './QueueResult.js';

/** Records per HSCAN round trip. */
const SCAN_COUNT = 1000;

/**
 * Every job's durable record, read from Redis with HSCAN on a connection of its own (opened on
 * subscribe, closed when done or unsubscribed): each record at least once, since HSCAN may repeat
 * one while the hash grows. Completes after the last.
 *
 * @example
 * ```ts
 * import { lastValueFrom, toArray } from 'rxjs';
 * import { queueResults } from 'rxcurl/queue';
 *
 * const records = await lastValueFrom(queueResults({ redis: 'redis://127.0.0.1:6379' }).pipe(toArray()));
 * console.log(records.filter((r) => !r.ok).map((r) => `${r.url}: ${r.error}`));
 * ```
 */
export function queueResults(conn: QueueConnection): Observable<QueueResult> {
  return new Observable<QueueResult>((subscriber) => {
    const redis = openRedis(conn);
    const key = resultsKey(conn);
    const scan = async () => {
      let cursor = '0';
      do {
        const [next, entries] = await redis.hscan(key, cursor, 'COUNT', SCAN_COUNT);
        // entries: field, value, field, value…
        for (let i = 1; i < entries.length && !subscriber.closed; i += 2)
          subscriber.next(JSON.parse(entries[i]) as QueueResult);
        cursor = next;
      } while (cursor !== '0' && !subscriber.closed);
      subscriber.complete();
    };
    scan().catch((error: unknown) => subscriber.error(error));
    return () => redis.disconnect();
  });
}
