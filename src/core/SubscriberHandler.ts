import type { Subscriber } from 'rxjs';
import { ownChunk } from './ownChunk.js';
import type { PendingWork } from './PendingWork.js';
import { markSpentBody } from './spentBody.js';
import type { TransferHandler } from './TransferHandler.js';
import type { TransferControl, TransferJob } from './TransferJob.js';
import type { DataEvent, ResponseEvent, ResponseHead, TransferEvent, TransferResult } from './types.js';

/** The transfer behind each response and data event, for transferControl and toFile. */
const jobs = new WeakMap<TransferEvent, TransferJob>();

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
  return jobs.get(event);
}

/** Where work started for the transfer that emitted `event` (a response or data event) is tracked. */
export function pendingWorkOf(event: TransferEvent): PendingWork | undefined {
  return jobs.get(event)?.pendingWork;
}

/** The handler of `transfer()`: each report becomes a TransferEvent on the subscriber. */
export class SubscriberHandler implements TransferHandler {
  constructor(private readonly subscriber: Subscriber<TransferEvent>) {}

  onResponse(head: ResponseHead, job: TransferJob): void {
    const event: ResponseEvent = {
      type: 'response',
      status: head.status,
      httpVersion: head.httpVersion,
      headers: head.headers,
      url: head.url,
    };
    jobs.set(event, job);
    if (job.bodyRead) markSpentBody(event);
    this.subscriber.next(event);
  }

  onData(chunk: Buffer, job: TransferJob): void {
    const event: DataEvent = { type: 'data', chunk: ownChunk(chunk) };
    jobs.set(event, job);
    this.subscriber.next(event);
  }

  onProgress(downloaded: number, downloadTotal: number, uploaded: number, uploadTotal: number): void {
    this.subscriber.next({ type: 'progress', downloaded, downloadTotal, uploaded, uploadTotal });
  }

  onComplete(result: TransferResult): void {
    this.subscriber.next({ type: 'done', result });
    this.subscriber.complete();
  }

  onError(error: unknown, job: TransferJob | undefined): void {
    if (job?.bodyRead && typeof error === 'object' && error !== null) markSpentBody(error);
    this.subscriber.error(error);
  }
}
