import { BinaryHeap } from './BinaryHeap.js';
import type { QueuedItem } from './QueuedItem.js';
import type { LaneLimits } from './TransferQueueOptions.js';

/** Where a lane is: which of the queue's heaps holds it, if any. */
export type LanePlace = 'ready' | 'timed' | 'full' | 'none';

/** Higher priority first, then arrival order. */
function itemBefore<T>(a: QueuedItem<T>, b: QueuedItem<T>): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}

/**
 * One key of a queue: its waiting items, its running count, and the state of its limits — a
 * generic cell rate algorithm (the token bucket as one number, the theoretical time of the next
 * start), the earliest start the minimum delay allows, and a Retry-After pause.
 */
export class KeyLane<T> {
  readonly items = new BinaryHeap<QueuedItem<T>>(itemBefore);
  /** Items of this key running. */
  active = 0;
  /** Items of this key waiting out a retry backoff (counted as queued). */
  backingOff = 0;
  /** The queue's start count at this key's latest start; 0 when it never started: round robin. */
  lastStart = 0;
  /** When it may start next, while it waits in the queue's timed heap. */
  readyAt = 0;
  place: LanePlace = 'none';
  /** Its index in the heap that holds it. */
  position = -1;
  pausedUntil = Number.NEGATIVE_INFINITY;
  private theoreticalStart = Number.NEGATIVE_INFINITY;
  private delayedUntil = Number.NEGATIVE_INFINITY;

  constructor(
    readonly key: string,
    /** Creation order, the last tie-break. */
    readonly seq: number,
  ) {}

  /** The earliest time the rate, the minimum delay and a pause let this key start. */
  earliestStart(limits: LaneLimits): number {
    return Math.max(this.pausedUntil, this.delayedUntil, this.theoreticalStart - limits.tolerance);
  }

  started(now: number, limits: LaneLimits): void {
    if (limits.interval > 0) this.theoreticalStart = Math.max(this.theoreticalStart, now) + limits.interval;
    if (limits.minDelayMs > 0) this.delayedUntil = now + limits.minDelayMs;
  }

  /** Whether forgetting this lane now would lose nothing: no pause, delay or spent token pending. */
  quietBy(now: number): boolean {
    return this.pausedUntil <= now && this.delayedUntil <= now && this.theoreticalStart <= now;
  }

  get queued(): number {
    return this.items.size + this.backingOff;
  }
}
