import { isObservable, type Observable, type Subscription } from 'rxjs';

/** What a pulling consumer (`requestAll`, `scheduleFrom`) hears from its source. */
export interface IntakeListener<T> {
  item(value: T): void;
  /** No more items. */
  end(): void;
  /** The source failed (an iterator threw, an Observable errored). */
  fail(error: unknown): void;
}

/**
 * A source of items pulled one at a time: an Iterable or AsyncIterable is read only when an item is
 * asked for; an Observable pushes as it pleases (that is what an Observable is), so what it pushes
 * ahead of the asks waits in a queue, as with `mergeMap`.
 */
export interface Intake {
  /** Asks for one item: `item` or `end` follows, now or later. */
  ask(): void;
  /** Stops reading: an iterator is returned, an Observable unsubscribed. */
  stop(): void;
}

export function intakeOf<T>(
  source: Observable<T> | Iterable<T> | AsyncIterable<T>,
  listener: IntakeListener<T>,
  /** Who reads the source, for the error about a source of the wrong kind. */
  reader: string,
): Intake {
  if (isObservable(source)) return new ObservableIntake(source, listener);
  if (typeof (source as Iterable<T>)[Symbol.iterator] === 'function')
    return new IterableIntake((source as Iterable<T>)[Symbol.iterator](), listener);
  if (typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] === 'function')
    return new AsyncIterableIntake((source as AsyncIterable<T>)[Symbol.asyncIterator](), listener);
  throw new TypeError(`${reader} takes an Observable, an Iterable or an AsyncIterable`);
}

class IterableIntake<T> implements Intake {
  private done = false;

  constructor(
    private readonly iterator: Iterator<T>,
    private readonly listener: IntakeListener<T>,
  ) {}

  ask(): void {
    if (this.done) return;
    let next: IteratorResult<T>;
    try {
      next = this.iterator.next();
    } catch (err) {
      this.done = true;
      this.listener.fail(err);
      return;
    }
    if (next.done) {
      this.done = true;
      this.listener.end();
    } else this.listener.item(next.value);
  }

  stop(): void {
    if (this.done) return;
    this.done = true;
    this.iterator.return?.();
  }
}

class AsyncIterableIntake<T> implements Intake {
  private done = false;
  private reading = false;
  /** Asks not yet answered; an async iterator is read one item at a time. */
  private owed = 0;

  constructor(
    private readonly iterator: AsyncIterator<T>,
    private readonly listener: IntakeListener<T>,
  ) {}

  ask(): void {
    this.owed++;
    this.read();
  }

  stop(): void {
    if (this.done) return;
    this.done = true;
    void Promise.resolve(this.iterator.return?.()).catch(() => undefined);
  }

  private read(): void {
    if (this.done || this.reading || this.owed === 0) return;
    this.reading = true;
    this.iterator.next().then(
      (next) => {
        this.reading = false;
        if (this.done) return;
        if (next.done) {
          this.done = true;
          this.listener.end();
          return;
        }
        this.owed--;
        this.listener.item(next.value);
        this.read();
      },
      (err: unknown) => {
        this.reading = false;
        if (this.done) return;
        this.done = true;
        this.listener.fail(err);
      },
    );
  }
}

class ObservableIntake<T> implements Intake {
  private readonly queue: T[] = [];
  private owed = 0;
  private completed = false;
  private subscription: Subscription | undefined;

  constructor(
    private readonly source: Observable<T>,
    private readonly listener: IntakeListener<T>,
  ) {}

  ask(): void {
    if (!this.subscription) this.subscribe();
    if (this.queue.length > 0) {
      this.listener.item(this.queue.shift()!);
      if (this.queue.length === 0 && this.completed) this.listener.end();
    } else if (this.completed) this.listener.end();
    else this.owed++;
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.queue.length = 0;
  }

  private subscribe(): void {
    this.subscription = this.source.subscribe({
      next: (value) => {
        if (this.owed > 0) {
          this.owed--;
          this.listener.item(value);
        } else this.queue.push(value);
      },
      error: (err) => this.listener.fail(err),
      complete: () => {
        this.completed = true;
        if (this.queue.length === 0) this.listener.end();
      },
    });
  }
}
