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
  queued: number;
  active: number;
  done: number;
  failed: number;
  retried: number;
  /** Keys with items queued or running, or paused: `pausedUntil` on the queue's clock. */
  hosts: Record<string, { queued: number; active: number; pausedUntil?: number }>;
}
