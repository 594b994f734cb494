import { from, type ObservableInput, type Subscriber, Subscription } from 'rxjs';
import type { Intake, IntakeListener } from './Intake.js';
import type { QueueCore } from './QueueCore.js';
import type { QueuedItem, QueueRun } from './QueuedItem.js';
import { throttledFor } from './retryAfter.js';

/**
 * One subscription of `schedule()` or `scheduleFrom()`: feeds its items to the queue, runs the
 * ones the queue starts through `project`, merges their outputs into its subscriber. An error
 * that is not retried errors the output, as with `mergeMap`, and everything of the run stops.
 */
export class ScheduledRun<T, R> implements QueueRun<T>, IntakeListener<T> {
  /** Set by scheduleFrom(): the source it pulls from, at most `lookahead` items ahead. */
  intake: Intake | undefined;
  private readonly running = new Map<QueuedItem<T>, Subscription>();
  /** Items queued, running or backing off. */
  private pending = 0;
  /** Items asked of the intake and not yet received. */
  private asked = 0;
  private nextIndex = 0;
  private sourceDone = false;
  private closed = false;

  constructor(
    private readonly core: QueueCore<T>,
    private readonly subscriber: Subscriber<R>,
    private readonly project: (item: T, index: number) => ObservableInput<R>,
  ) {}

  /** Asks the intake for as many items as the lookahead allows. */
  fill(): void {
    const intake = this.intake;
    if (intake === undefined) return;
    const { lookahead } = this.core.policy;
    while (!this.closed && !this.sourceDone && this.pending + this.asked < lookahead) {
      this.asked++;
      intake.ask();
    }
  }

  // IntakeListener, and the push source of schedule()
  item(value: T): void {
    if (this.closed) return;
    if (this.intake !== undefined) this.asked--;
    try {
      this.core.enqueue(this, value, this.nextIndex++);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.pending++;
    this.core.dispatch();
  }

  end(): void {
    this.sourceDone = true;
    this.asked = 0;
    this.completeIfDone();
  }

  fail(error: unknown): void {
    if (this.closed) return;
    this.close();
    this.subscriber.error(error);
  }

  /** Cancels what runs, drops what waits, stops reading. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.intake?.stop();
    const running = [...this.running];
    this.running.clear();
    for (const [item, subscription] of running) {
      subscription.unsubscribe();
      this.core.cancel(item);
    }
    this.core.drop(this);
    this.core.dispatch();
  }

  // QueueRun
  start(item: QueuedItem<T>): void {
    let output: ObservableInput<R>;
    try {
      output = this.project(item.value, item.index);
    } catch (error) {
      this.ended(item, error);
      return;
    }
    const subscription = new Subscription();
    this.running.set(item, subscription);
    subscription.add(
      from(output).subscribe({
        next: (value) => this.emit(item, value),
        error: (error: unknown) => this.ended(item, error),
        complete: () => this.ended(item),
      }),
    );
  }

  private emit(item: QueuedItem<T>, value: R): void {
    if (this.core.policy.retryAfter) {
      const pause = throttledFor(value, this.core.now());
      if (pause !== undefined) this.core.pause(item, pause);
    }
    this.subscriber.next(value);
  }

  private ended(item: QueuedItem<T>, error?: unknown): void {
    if (this.closed) return;
    this.running.delete(item);
    const settlement = this.core.settle(item, error);
    if (settlement !== 'retry') this.pending--;
    if (settlement === 'failed') {
      this.fail(error);
      return;
    }
    if (this.completeIfDone()) return;
    this.fill();
    this.core.dispatch();
  }

  private completeIfDone(): boolean {
    if (this.closed || !this.sourceDone || this.pending > 0) return false;
    this.closed = true;
    this.subscriber.complete();
    this.core.dispatch();
    return true;
  }
}
