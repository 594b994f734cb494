/**
 * What a `TransferQueue` holds, from `stats$`: items queued (waiting, or out for a retry backoff),
 * running, done, failed (not retried) and retried, in all and per key.
 *
 * @example
 * ```ts
 * queue.stats$.pipe(auditTime(1000)).subscribe((s: QueueStats) =>
 *   console.log(`${s.active} running, ${s.queued} queued, ${s.done} done, ${s.failed} failed`),
 * );
 * ```
 */
export interface QueueStats {
  /** Items waiting: in a key's queue, or out for a retry backoff. */
  queued: number;
  /** Items running. */
  active: number;
  /** Items that completed. */
  done: number;
  /** Items that failed and were not retried. */
  failed: number;
  /** Retries so far. */
  retried: number;
  /** Keys with items queued or running, or paused. */
  hosts: Record<string, KeyStats>;
}

/**
 * One key of `QueueStats.hosts`.
 *
 * @example
 * ```ts
 * const { hosts } = queue.stats();
 * for (const [host, k] of Object.entries(hosts)) if (k.pausedUntil) console.log(`${host} paused, ${k.queued} waiting`);
 * ```
 */
export interface KeyStats {
  /** Its items waiting. */
  queued: number;
  /** Its items running. */
  active: number;
  /** While a Retry-After pause holds it: when the pause ends, on the queue's clock. */
  pausedUntil?: number;
}
