import type { KeyLane } from './KeyLane.js';

/** One item in a queue: what it is, whose it is, where it waits. */
export interface QueuedItem<T> {
  readonly value: T;
  /** Its position among the items of its run, from 0 (the `index` of the project function). */
  readonly index: number;
  readonly key: string;
  readonly priority: number;
  /** Arrival order in the queue: ties of priority go by it. */
  readonly seq: number;
  readonly run: QueueRun<T>;
  readonly lane: KeyLane<T>;
  /** Retries so far. */
  attempt: number;
}

/** A consumer of a queue (one subscription of `schedule`, `scheduleFrom` or `requestAll`): it runs the items the queue starts. */
export interface QueueRun<T> {
  /** Runs `item`; the run reports its end to the queue with `settle` (or `cancel`), once. */
  start(item: QueuedItem<T>): void;
}
