import type { Subscriber } from 'rxjs';
import type { NormalizedRequest } from './NormalizedRequest.js';
import { markSpentBody } from './spentBody.js';
import type { DataEvent, Headers, ResponseEvent, TransferEvent } from './types.js';

/**
 * Pausing and resuming one transfer, for consumers slower than the network (`toFile`).
 *
 * @example
 * ```ts
 * const control = transferControl(event);
 * control?.pause();
 * sink.once('drain', () => control?.resume());
 * ```
 */
export interface TransferControl {
  /** Whether `pause()` was called and `resume()` not yet. */
  readonly paused: boolean;
  /** No more `data` until `resume()`; libcurl stops reading the socket (CURL_WRITEFUNC_PAUSE). */
  pause(): void;
  /** Lets libcurl read again; a chunk it held back may arrive at once. */
  resume(): void;
}

const controls = new WeakMap<DataEvent, TransferControl>();

/**
 * The control of the transfer that emitted `event`: pause it from a slow consumer.
 *
 * @example
 * ```ts
 * curl.transfer(url).subscribe((event) => {
 *   if (event.type === 'data' && !sink.write(event.chunk)) {
 *     const control = transferControl(event);
 *     control?.pause();
 *     sink.once('drain', () => control?.resume());
 *   }
 * });
 * ```
 */
export function transferControl(event: DataEvent): TransferControl | undefined {
  return controls.get(event);
}

/** The final response head: status line and headers after redirects. */
export interface ResponseHead {
  status: number;
  httpVersion: string;
  headers: Headers;
  url: string;
}

/**
 * One subscription to `transfer()`: the request, where its events go, and the driver's handle.
 * Drivers call `response` and `data` as bytes arrive; the engine ends it.
 */
export class TransferJob implements TransferControl {
  /** Driver-private state: the native driver keeps its easy handle slot here. */
  driverState: unknown = undefined;
  responded = false;
  /** Set while the transfer runs; cleared once it finished, failed or was cancelled. */
  active = true;
  /** An exception thrown while handling one of this transfer's callbacks; it replaces libcurl's error. */
  callbackError: unknown = undefined;
  paused = false;
  /** libcurl has read from a one-shot (Readable) body: this request cannot be sent again. */
  bodySpent = false;

  constructor(
    readonly id: number,
    readonly request: NormalizedRequest,
    private readonly subscriber: Subscriber<TransferEvent>,
    private readonly onResume: (job: TransferJob) => void,
  ) {}

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.active) this.onResume(this);
  }

  response(head: ResponseHead): void {
    if (this.responded) return;
    this.responded = true;
    const event: ResponseEvent = {
      type: 'response',
      status: head.status,
      httpVersion: head.httpVersion,
      headers: head.headers,
      url: head.url,
    };
    if (this.bodySpent) markSpentBody(event);
    this.subscriber.next(event);
  }

  data(chunk: Buffer): void {
    const event: DataEvent = { type: 'data', chunk };
    controls.set(event, this);
    this.subscriber.next(event);
  }

  progress(downloaded: number, downloadTotal: number, uploaded: number, uploadTotal: number): void {
    this.subscriber.next({ type: 'progress', downloaded, downloadTotal, uploaded, uploadTotal });
  }

  /** Ends the transfer's Observable; the engine calls it once the driver let go of the handle. */
  settle(event: TransferEvent | undefined, error: unknown): void {
    this.active = false;
    if (error !== undefined) {
      if (this.bodySpent && typeof error === 'object' && error !== null) markSpentBody(error);
      this.subscriber.error(error);
    } else {
      if (event) this.subscriber.next(event);
      this.subscriber.complete();
    }
  }
}
