import { Observable, type Subscriber } from 'rxjs';
import { DenseList, type Listed } from '../core/DenseList.js';
import type { Engine } from '../core/Engine.js';
import type { LentChunk } from '../core/LentChunk.js';
import type { NormalizedRequest } from '../core/NormalizedRequest.js';
import type { TransferHandler } from '../core/TransferHandler.js';
import type { TransferJob } from '../core/TransferJob.js';
import type { ResponseHead, TransferResult } from '../core/types.js';
import { CurlError } from '../errors/CurlError.js';
import { type Intake, intakeOf } from '../scheduling/Intake.js';
import type { QueueCore } from '../scheduling/QueueCore.js';
import type { QueuedItem, QueueRun } from '../scheduling/QueuedItem.js';
import { throttledFor } from '../scheduling/retryAfter.js';
import { queueCoreOf, TransferQueue } from '../scheduling/TransferQueue.js';
import { BodyBuffer } from './BodyBuffer.js';
import { bufferedResponse, contentLength } from './BufferedResponse.js';
import type { CurlRequest } from './CurlRequest.js';
import type { CurlResponse } from './CurlResponse.js';
import type { RequestAllOptions, Settled } from './Settled.js';

type RequestInput = CurlRequest | string;

const DEFAULT_CONCURRENCY = 64;

/**
 * Many buffered requests driven by the engine itself: one handler object per transfer and one
 * emission when it settles, no Observable, subscriber or operator chain per transfer.
 */
export function requestAll(
  engine: Engine,
  normalize: (request: RequestInput) => NormalizedRequest,
  requests: Observable<RequestInput> | Iterable<RequestInput> | AsyncIterable<RequestInput>,
  options: RequestAllOptions = {},
): Observable<Settled> {
  return new Observable<Settled>((subscriber) => {
    let queue: QueueCore<RequestInput> | undefined;
    let concurrency: number;
    try {
      queue = options.queue === undefined ? undefined : queueOf(options);
      concurrency = queue === undefined ? checkedConcurrency(options.concurrency) : queue.policy.lookahead;
    } catch (err) {
      subscriber.error(err);
      return;
    }
    const run = new BulkRun(engine, normalize, subscriber, concurrency, queue);
    try {
      run.intake = intakeOf(requests, run, 'requestAll()');
    } catch (err) {
      subscriber.error(err);
      return;
    }
    run.fill();
    return () => run.stop();
  });
}

function checkedConcurrency(concurrency = DEFAULT_CONCURRENCY): number {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw CurlError.invalidInput('concurrency', `must be an integer >= 1, got ${String(concurrency)}`);
  }
  return concurrency;
}

function queueOf(options: RequestAllOptions): QueueCore<RequestInput> {
  if (!(options.queue instanceof TransferQueue))
    throw CurlError.invalidInput('queue', 'must be a TransferQueue');
  if (options.concurrency !== undefined) {
    throw CurlError.invalidInput('concurrency', "cannot go with a queue: the queue's concurrency applies");
  }
  return queueCoreOf(options.queue as TransferQueue<RequestInput>);
}

/**
 * One subscription to requestAll(): what runs, what was asked of the source, and the output.
 * Without a queue it starts each request as it arrives, `limit` at a time; with one, it hands
 * each to the queue, which starts it (`start`) as its limits allow, and reads at most `limit`
 * (the queue's lookahead) ahead of what has settled.
 */
class BulkRun implements QueueRun<RequestInput> {
  intake: Intake | undefined;
  /** The transfers that run (with a queue, those of the items it started), by their handlers. */
  private readonly running = new DenseList<BulkHandler>();
  /** Items asked of the source and not yet received. */
  private asked = 0;
  /** Requests received and not yet settled for good (a refused one settles at once). */
  private active = 0;
  private nextIndex = 0;
  private ended = false;
  private stopped = false;
  private filling = false;

  constructor(
    private readonly engine: Engine,
    private readonly normalize: (request: RequestInput) => NormalizedRequest,
    private readonly subscriber: Subscriber<Settled>,
    private readonly limit: number,
    private readonly queue: QueueCore<RequestInput> | undefined,
  ) {}

  /** Asks the source for as many requests as there is room for; completes once all have settled. */
  fill(): void {
    if (this.filling) return; // the loop below sees what a nested settle freed
    this.filling = true;
    while (!this.stopped && !this.ended && this.active + this.asked < this.limit) {
      this.asked++;
      this.intake!.ask();
    }
    this.filling = false;
    if (!this.stopped && this.ended && this.active === 0) {
      this.stopped = true;
      this.subscriber.complete();
    }
  }

  // IntakeListener
  item(request: RequestInput): void {
    this.asked--;
    this.active++;
    const index = this.nextIndex++;
    if (this.queue === undefined) {
      this.launch(index, request, undefined);
      return;
    }
    try {
      this.queue.enqueue(this, request, index);
    } catch (err) {
      this.settle(index, request, undefined, err);
      return;
    }
    this.queue.dispatch();
  }

  end(): void {
    this.ended = true;
    this.asked = 0;
    this.fill();
  }

  fail(error: unknown): void {
    if (this.stopped) return;
    this.stop();
    this.subscriber.error(error);
  }

  // QueueRun
  start(item: QueuedItem<RequestInput>): void {
    this.launch(item.index, item.value, item);
  }

  /** A 429 or 503 with Retry-After pauses the request's key. */
  responded(item: QueuedItem<RequestInput>, response: CurlResponse): void {
    const queue = this.queue!;
    if (!queue.policy.retryAfter) return;
    const pause = throttledFor(response, queue.now());
    if (pause !== undefined) queue.pause(item, pause);
  }

  settle(
    index: number,
    request: RequestInput,
    response: CurlResponse | undefined,
    error: unknown,
    handler?: BulkHandler,
    item?: QueuedItem<RequestInput>,
  ): void {
    if (handler) this.running.delete(handler);
    if (item !== undefined) {
      if (this.stopped) return; // stop() gave its slot back
      if (this.queue!.settle(item, error) === 'retry') {
        this.queue!.dispatch();
        return;
      }
    }
    this.active--;
    if (this.stopped) return;
    this.subscriber.next(
      error === undefined
        ? { index, request, response: response! }
        : { index, request, error: error instanceof CurlError ? error : wrap(error, request) },
    );
    this.fill();
    this.queue?.dispatch();
  }

  stop(): void {
    this.stopped = true;
    this.intake?.stop();
    const running = this.running.clear();
    for (const handler of running) this.engine.cancel(handler.job!);
    const queue = this.queue;
    if (queue === undefined) return;
    for (const { item } of running) if (item !== undefined) queue.cancel(item);
    queue.drop(this);
    queue.dispatch();
  }

  private launch(index: number, request: RequestInput, item: QueuedItem<RequestInput> | undefined): void {
    let normalized: NormalizedRequest;
    try {
      normalized = this.normalize(request);
    } catch (err) {
      this.settle(index, request, undefined, err, undefined, item);
      return;
    }
    const handler = new BulkHandler(this, index, request, item);
    const job = this.engine.start(normalized, handler);
    if (!job?.active) return; // refused, and settled already
    handler.job = job;
    this.running.add(handler);
  }
}

/** One transfer of a bulk run: buffers its body, settles once. */
class BulkHandler implements TransferHandler, Listed {
  listIndex = -1;
  job: TransferJob | undefined = undefined;
  private head: ResponseHead | undefined = undefined;
  private readonly body = new BodyBuffer();

  constructor(
    private readonly run: BulkRun,
    private readonly index: number,
    private readonly request: RequestInput,
    readonly item: QueuedItem<RequestInput> | undefined,
  ) {}

  onResponse(head: ResponseHead): void {
    this.head = head;
    this.body.expect(contentLength(head));
  }

  onData(chunk: LentChunk): void {
    this.body.append(chunk);
  }

  onProgress(): void {}

  onComplete(result: TransferResult, job: TransferJob): void {
    const response = bufferedResponse(this.head, this.body.take(), result, job.bodyRead);
    if (this.item !== undefined) this.run.responded(this.item, response);
    this.run.settle(this.index, this.request, response, undefined, this, this.item);
  }

  onError(error: unknown): void {
    this.run.settle(this.index, this.request, undefined, error, this, this.item);
  }
}

/** What a handler threw is this request's failure; Settled carries CurlErrors only. */
function wrap(error: unknown, request: RequestInput): CurlError {
  const url = typeof request === 'string' ? request : String(request?.url ?? '');
  const wrapped = new CurlError('ABORTED', error instanceof Error ? error.message : String(error), url);
  wrapped.cause = error;
  return wrapped;
}
