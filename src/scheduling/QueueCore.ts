import type { Subscription } from 'rxjs';
import { isTransient } from '../operators/retryTransient.js';
import { BinaryHeap } from './BinaryHeap.js';
import { KeyLane } from './KeyLane.js';
import type { QueuedItem, QueueRun } from './QueuedItem.js';
import type { QueueStats } from './QueueStats.js';
import { throttledFor } from './retryAfter.js';
import type { QueuePolicy } from './TransferQueueOptions.js';

/** How an item's attempt ended, as the queue sees it. */
export type Settlement = 'done' | 'retry' | 'failed';

function setPosition<T>(lane: KeyLane<T>, index: number): void {
  lane.position = index;
}

/** The highest head priority first; among equals the key that started least recently, then the oldest key. */
function readyBefore<T>(a: KeyLane<T>, b: KeyLane<T>): boolean {
  const pa = a.items.peek()!.priority;
  const pb = b.items.peek()!.priority;
  if (pa !== pb) return pa > pb;
  if (a.lastStart !== b.lastStart) return a.lastStart < b.lastStart;
  return a.seq < b.seq;
}

function timedBefore<T>(a: KeyLane<T>, b: KeyLane<T>): boolean {
  return a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq);
}

/** Idle lanes kept for their limits are swept when this many have gathered (the bound doubles with them). */
const FIRST_SWEEP = 1024;

/**
 * The scheduling state of a `TransferQueue`, with no Observable of its own: lanes by key, a heap
 * of the lanes that may start now and a heap of those waiting for a time, one timer for the
 * earliest of those, and the counters of `stats$`. Runs put items in (`enqueue`), the queue
 * starts them (`QueueRun.start`) as limits allow (`dispatch`), and runs report how they ended
 * (`settle`, `cancel`).
 */
export class QueueCore<T> {
  readonly lanes = new Map<string, KeyLane<T>>();
  active = 0;
  /** Items waiting, in a lane or out for a retry backoff. */
  queued = 0;
  done = 0;
  failed = 0;
  retried = 0;
  private readonly ready = new BinaryHeap<KeyLane<T>>(readyBefore, setPosition);
  private readonly timed = new BinaryHeap<KeyLane<T>>(timedBefore, setPosition);
  private readonly idle = new Set<KeyLane<T>>();
  private sweepAt = FIRST_SWEEP;
  private readonly backoffs = new Map<QueuedItem<T>, Subscription>();
  private starts = 0;
  private arrivals = 0;
  private lanesMade = 0;
  private timer: Subscription | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private dispatching = false;
  private dispatchAgain = false;
  private readonly watchers = new Set<() => void>();
  private notice: Subscription | undefined;

  constructor(readonly policy: QueuePolicy<T>) {}

  now(): number {
    return this.policy.scheduler.now();
  }

  /** Queues `value` for `run`; throws what the key or priority function throws, or a bad key. */
  enqueue(run: QueueRun<T>, value: T, index: number): QueuedItem<T> {
    const { keyOf, priorityOf } = this.policy;
    const key = keyOf(value);
    if (typeof key !== 'string')
      throw new TypeError(`TransferQueue: key() must return a string, got ${typeof key}`);
    const priority = priorityOf === undefined ? 0 : priorityOf(value);
    if (typeof priority !== 'number' || Number.isNaN(priority)) {
      throw new TypeError(`TransferQueue: priority() must return a number, got ${String(priority)}`);
    }
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      lane = new KeyLane<T>(key, ++this.lanesMade);
      this.lanes.set(key, lane);
    } else this.idle.delete(lane);
    const item: QueuedItem<T> = { value, index, key, priority, seq: ++this.arrivals, run, lane, attempt: 0 };
    const head = lane.items.peek();
    lane.items.push(item);
    this.queued++;
    if (head === undefined || priority > head.priority) this.place(lane, this.now());
    this.changed();
    return item;
  }

  /** Starts what the limits allow now, and arms the timer for what they allow later. */
  dispatch(): void {
    if (this.dispatching) {
      // A run settled an item synchronously from start(): the loop below goes round again.
      this.dispatchAgain = true;
      return;
    }
    this.dispatching = true;
    const { concurrency, perKey } = this.policy;
    let now = this.now();
    try {
      do {
        this.dispatchAgain = false;
        now = this.now();
        for (
          let lane = this.timed.peek();
          lane !== undefined && lane.readyAt <= now;
          lane = this.timed.peek()
        ) {
          this.place(lane, now);
        }
        while (this.active < concurrency && this.ready.size > 0) {
          const lane = this.ready.pop()!;
          lane.place = 'none';
          const item = lane.items.pop()!;
          this.queued--;
          this.active++;
          lane.active++;
          lane.lastStart = ++this.starts;
          lane.started(now, perKey);
          this.place(lane, now);
          item.run.start(item);
        }
      } while (this.dispatchAgain);
    } finally {
      this.dispatching = false;
    }
    this.armTimer(now);
    this.changed();
  }

  /**
   * Ends an item's attempt: `done` without an error; with one, `retry` when the item goes back on
   * its key's queue (now under a Retry-After pause, or after a backoff), else `failed`. A 429 or 503
   * with Retry-After pauses the key either way. The caller dispatches once it has acted on it.
   */
  settle(item: QueuedItem<T>, error?: unknown): Settlement {
    const lane = item.lane;
    const now = this.now();
    lane.active--;
    this.active--;
    let settlement: Settlement = 'done';
    if (error === undefined) this.done++;
    else {
      const pause = this.policy.retryAfter ? throttledFor(error, now) : undefined;
      if (pause !== undefined) this.pauseLane(lane, pause, now);
      if (item.attempt < this.policy.retryCount && isTransient(error)) {
        settlement = 'retry';
        item.attempt++;
        this.retried++;
        this.queued++;
        if (pause !== undefined) lane.items.push(item);
        else this.backOff(item);
      } else {
        settlement = 'failed';
        this.failed++;
      }
    }
    this.place(lane, now);
    this.changed();
    return settlement;
  }

  /** An item its run stopped while it ran: its slot is free, and it counts neither as done nor failed. */
  cancel(item: QueuedItem<T>): void {
    item.lane.active--;
    this.active--;
    this.place(item.lane, this.now());
    this.changed();
  }

  /** A Retry-After seen in what an item emitted: its key waits. */
  pause(item: QueuedItem<T>, ms: number): void {
    const now = this.now();
    this.pauseLane(item.lane, ms, now);
    this.place(item.lane, now);
    this.armTimer(now);
    this.changed();
  }

  /** Forgets every waiting item of `run` (queued or backing off); its running items are its own to cancel. */
  drop(run: QueueRun<T>): void {
    const now = this.now();
    for (const [item, backoff] of this.backoffs) {
      if (item.run !== run) continue;
      backoff.unsubscribe();
      this.backoffs.delete(item);
      item.lane.backingOff--;
      this.queued--;
      this.place(item.lane, now);
    }
    for (const lane of [...this.lanes.values()]) {
      if (lane.items.size === 0) continue;
      const removed = lane.items.removeWhere((item) => item.run === run);
      if (removed === 0) continue;
      this.queued -= removed;
      this.place(lane, now);
    }
    this.armTimer(now);
    this.changed();
  }

  snapshot(): QueueStats {
    const now = this.now();
    const hosts: QueueStats['hosts'] = {};
    for (const lane of this.lanes.values()) {
      const paused = lane.pausedUntil > now;
      if (lane.queued === 0 && lane.active === 0 && !paused) continue;
      hosts[lane.key] = paused
        ? { queued: lane.queued, active: lane.active, pausedUntil: lane.pausedUntil }
        : { queued: lane.queued, active: lane.active };
    }
    const { queued, active, done, failed, retried } = this;
    return { queued, active, done, failed, retried, hosts };
  }

  /** Calls `watcher` after changes, at most once per turn of the scheduler; returns the teardown. */
  watch(watcher: () => void): () => void {
    this.watchers.add(watcher);
    return () => {
      this.watchers.delete(watcher);
      if (this.watchers.size === 0) {
        this.notice?.unsubscribe();
        this.notice = undefined;
      }
    };
  }

  private changed(): void {
    if (this.watchers.size === 0 || this.notice !== undefined) return;
    this.notice = this.policy.scheduler.schedule(() => {
      this.notice = undefined;
      for (const watcher of [...this.watchers]) watcher();
    });
  }

  private pauseLane(lane: KeyLane<T>, ms: number, now: number): void {
    const until = now + Math.min(ms, this.policy.maxPauseMs);
    if (until > lane.pausedUntil) lane.pausedUntil = until;
  }

  private backOff(item: QueuedItem<T>): void {
    const { retryBaseDelayMs, retryMaxDelayMs, scheduler } = this.policy;
    const delay = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** (item.attempt - 1));
    item.lane.backingOff++;
    this.backoffs.set(
      item,
      scheduler.schedule(() => {
        this.backoffs.delete(item);
        item.lane.backingOff--;
        item.lane.items.push(item);
        this.place(item.lane, this.now());
        this.dispatch();
      }, delay),
    );
  }

  /** Puts `lane` where its state says: the ready heap, the timed heap, or neither. */
  private place(lane: KeyLane<T>, now: number): void {
    if (lane.place === 'ready') this.ready.removeAt(lane.position);
    else if (lane.place === 'timed') this.timed.removeAt(lane.position);
    lane.place = 'none';
    lane.position = -1;
    if (lane.items.size === 0) {
      if (lane.active === 0 && lane.backingOff === 0) this.retire(lane, now);
      return;
    }
    if (lane.active >= this.policy.perKey.concurrency) {
      lane.place = 'full';
      return;
    }
    const at = lane.earliestStart(this.policy.perKey);
    if (at <= now) {
      lane.place = 'ready';
      this.ready.push(lane);
    } else {
      lane.readyAt = at;
      lane.place = 'timed';
      this.timed.push(lane);
    }
  }

  /** An empty lane goes, unless its limits still matter; then it waits among the idle until they do not. */
  private retire(lane: KeyLane<T>, now: number): void {
    if (lane.quietBy(now)) {
      this.lanes.delete(lane.key);
      this.idle.delete(lane);
      return;
    }
    this.idle.add(lane);
    if (this.idle.size < this.sweepAt) return;
    for (const idle of this.idle) {
      if (idle.quietBy(now)) {
        this.idle.delete(idle);
        this.lanes.delete(idle.key);
      }
    }
    this.sweepAt = Math.max(FIRST_SWEEP, 2 * this.idle.size);
  }

  private armTimer(now: number): void {
    const next = this.timed.peek();
    if (next === undefined || this.active >= this.policy.concurrency) {
      this.timer?.unsubscribe();
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.timer !== undefined && this.timerAt <= next.readyAt) return;
    this.timer?.unsubscribe();
    this.timerAt = next.readyAt;
    this.timer = this.policy.scheduler.schedule(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.dispatch();
      },
      Math.max(0, next.readyAt - now),
    );
  }
}
