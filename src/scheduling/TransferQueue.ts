import { Observable, type ObservableInput, type OperatorFunction } from 'rxjs';
import { intakeOf } from './Intake.js';
import { QueueCore } from './QueueCore.js';
import type { QueueStats } from './QueueStats.js';
import { ScheduledRun } from './ScheduledRun.js';
import { queuePolicy, type TransferQueueOptions } from './TransferQueueOptions.js';

const cores = new WeakMap<object, unknown>();

/** The scheduling state behind a queue, for the front ends of this package (`requestAll`). */
export function queueCoreOf<T>(queue: TransferQueue<T>): QueueCore<T> {
  const core = cores.get(queue);
  if (core === undefined) throw new TypeError('not a TransferQueue');
  return core as QueueCore<T>;
}

/**
 * Fair, polite scheduling of many transfers across hosts: a global concurrency limit, limits per
 * key (by default per origin: concurrency, starts per second, a minimum delay between starts),
 * priorities, retries at the queue, and Retry-After pauses of a whole key. A freed slot goes to
 * the highest priority among the keys that may start now; among equals, to the key that started
 * least recently, so one slow or throttled host never holds the others back. Every pipeline
 * scheduled on one queue shares its limits. Time is the `scheduler`'s, so a TestScheduler proves
 * every rule in virtual time.
 *
 * @example
 * ```ts
 * const queue = new TransferQueue({ concurrency: 32, perHost: { concurrency: 2, ratePerSecond: 4 } });
 * urls$.pipe(queue.schedule((url: string) => curl.request(url))).subscribe((res) => console.log(res.status, res.url));
 * ```
 */
export class TransferQueue<T = unknown> {
  /**
   * What the queue holds, now on subscription and then after changes (at most once per turn of
   * its scheduler): queued, active, done, failed, retried, and per key.
   */
  readonly stats$: Observable<QueueStats>;

  constructor(options: TransferQueueOptions<T> = {}) {
    const core = new QueueCore<T>(queuePolicy(options));
    cores.set(this, core);
    this.stats$ = new Observable<QueueStats>((subscriber) => {
      subscriber.next(core.snapshot());
      return core.watch(() => subscriber.next(core.snapshot()));
    });
  }

  /**
   * An operator: each item of the source is queued as it arrives and, when the queue starts it,
   * runs `project(item, index)`; the outputs are merged as they come, as with `mergeMap`.
   * Unsubscribing cancels what runs and drops what is queued.
   */
  schedule<I extends T, R>(project: (item: I, index: number) => ObservableInput<R>): OperatorFunction<I, R> {
    const core = queueCoreOf<I>(this as TransferQueue<I>);
    return (source) =>
      new Observable<R>((subscriber) => {
        const run = new ScheduledRun<I, R>(core, subscriber, project);
        const subscription = source.subscribe({
          next: (value) => run.item(value),
          error: (error: unknown) => run.fail(error),
          complete: () => run.end(),
        });
        return () => {
          subscription.unsubscribe();
          run.close();
        };
      });
  }

  /**
   * Like `schedule`, from an Iterable, AsyncIterable or Observable that is read only as the queue
   * has room: at most `lookahead` items ahead of those finished, so a list of millions of URLs
   * runs in flat memory.
   */
  scheduleFrom<I extends T, R>(
    source: Iterable<I> | AsyncIterable<I> | Observable<I>,
    project: (item: I, index: number) => ObservableInput<R>,
  ): Observable<R> {
    const core = queueCoreOf<I>(this as TransferQueue<I>);
    return new Observable<R>((subscriber) => {
      const run = new ScheduledRun<I, R>(core, subscriber, project);
      try {
        run.intake = intakeOf(source, run, 'scheduleFrom()');
      } catch (error) {
        subscriber.error(error);
        return;
      }
      run.fill();
      return () => run.close();
    });
  }

  /** What the queue holds now (what `stats$` emits). */
  stats(): QueueStats {
    return queueCoreOf(this).snapshot();
  }
}
