import type { Subscriber } from 'rxjs';
import type { NormalizedRequest } from './NormalizedRequest.js';
import type { Headers, TransferEvent } from './types.js';

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
export class TransferJob {
  /** Driver-private state: the native driver keeps its easy handle slot here. */
  driverState: unknown = undefined;
  responded = false;
  /** Set while the transfer runs; cleared once it finished, failed or was cancelled. */
  active = true;
  /** An exception thrown while handling one of this transfer's callbacks; it replaces libcurl's error. */
  callbackError: unknown = undefined;

  constructor(
    readonly id: number,
    readonly request: NormalizedRequest,
    private readonly subscriber: Subscriber<TransferEvent>,
  ) {}

  response(head: ResponseHead): void {
    if (this.responded) return;
    this.responded = true;
    this.subscriber.next({
      type: 'response',
      status: head.status,
      httpVersion: head.httpVersion,
      headers: head.headers,
      url: head.url,
    });
  }

  data(chunk: Buffer): void {
    this.subscriber.next({ type: 'data', chunk });
  }

  progress(downloaded: number, downloadTotal: number, uploaded: number, uploadTotal: number): void {
    this.subscriber.next({ type: 'progress', downloaded, downloadTotal, uploaded, uploadTotal });
  }

  /** Ends the transfer's Observable; the engine calls it once the driver let go of the handle. */
  settle(event: TransferEvent | undefined, error: unknown): void {
    this.active = false;
    if (error !== undefined) {
      this.subscriber.error(error);
    } else {
      if (event) this.subscriber.next(event);
      this.subscriber.complete();
    }
  }
}
