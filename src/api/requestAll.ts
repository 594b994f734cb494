import { Observable, type Subscriber } from 'rxjs';
import type { Engine } from '../core/Engine.js';
import type { NormalizedRequest } from '../core/NormalizedRequest.js';
import type { TransferHandler } from '../core/TransferHandler.js';
import type { TransferJob } from '../core/TransferJob.js';
import type { ResponseHead, TransferResult } from '../core/types.js';
import { CurlError } from '../errors/CurlError.js';
import { type Intake, intakeOf } from '../scheduling/Intake.js';
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
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      subscriber.error(
        CurlError.invalidInput('concurrency', `must be an integer >= 1, got ${String(concurrency)}`),
      );
      return;
    }
    const run = new BulkRun(engine, normalize, subscriber, concurrency);
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

/** One subscription to requestAll(): what runs, what was asked of the source, and the output. */
class BulkRun {
  intake: Intake | undefined;
  private readonly running = new Set<TransferJob>();
  /** Items asked of the source and not yet received. */
  private asked = 0;
  /** Transfers started and not yet settled (a refused one settles at once). */
  private active = 0;
  private nextIndex = 0;
  private ended = false;
  private stopped = false;
  private filling = false;

  constructor(
    private readonly engine: Engine,
    private readonly normalize: (request: RequestInput) => NormalizedRequest,
    private readonly subscriber: Subscriber<Settled>,
    private readonly concurrency: number,
  ) {}

  /** Asks the source for as many requests as there is room for; completes once all have settled. */
  fill(): void {
    if (this.filling) return; // the loop below sees what a nested settle freed
    this.filling = true;
    while (!this.stopped && !this.ended && this.active + this.asked < this.concurrency) {
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
    let normalized: NormalizedRequest;
    try {
      normalized = this.normalize(request);
    } catch (err) {
      this.settle(index, request, undefined, err);
      return;
    }
    const job = this.engine.start(normalized, new BulkHandler(this, index, request));
    if (job?.active) this.running.add(job);
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

  settle(
    index: number,
    request: RequestInput,
    response: CurlResponse | undefined,
    error: unknown,
    job?: TransferJob,
  ): void {
    if (job) this.running.delete(job);
    this.active--;
    if (this.stopped) return;
    this.subscriber.next(
      error === undefined
        ? { index, request, response: response! }
        : { index, request, error: error instanceof CurlError ? error : wrap(error, request) },
    );
    this.fill();
  }

  stop(): void {
    this.stopped = true;
    this.intake?.stop();
    for (const job of this.running) this.engine.cancel(job);
    this.running.clear();
  }
}

/** One transfer of a bulk run: buffers its body, settles once. */
class BulkHandler implements TransferHandler {
  private head: ResponseHead | undefined = undefined;
  private readonly body = new BodyBuffer();

  constructor(
    private readonly run: BulkRun,
    private readonly index: number,
    private readonly request: RequestInput,
  ) {}

  onResponse(head: ResponseHead): void {
    this.head = head;
    this.body.expect(contentLength(head));
  }

  onData(chunk: Buffer): void {
    this.body.append(chunk);
  }

  onProgress(): void {}

  onComplete(result: TransferResult, job: TransferJob): void {
    const response = bufferedResponse(this.head, this.body.take(), result, job.bodyRead);
    this.run.settle(this.index, this.request, response, undefined, job);
  }

  onError(error: unknown, job: TransferJob | undefined): void {
    this.run.settle(this.index, this.request, undefined, error, job);
  }
}

/** What a handler threw is this request's failure; Settled carries CurlErrors only. */
function wrap(error: unknown, request: RequestInput): CurlError {
  const url = typeof request === 'string' ? request : String(request?.url ?? '');
  const wrapped = new CurlError('ABORTED', error instanceof Error ? error.message : String(error), url);
  wrapped.cause = error;
  return wrapped;
}
