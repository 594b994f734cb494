import type { Subscriber } from 'rxjs';
import type { LentChunk } from './LentChunk.js';
import { ownChunk } from './ownChunk.js';
import type { PendingWork } from './PendingWork.js';
import { markSpentBody } from './spentBody.js';
import type { TransferHandler } from './TransferHandler.js';
import type { TransferControl, TransferJob } from './TransferJob.js';
import type { DataEvent, ResponseEvent, ResponseHead, TransferEvent, TransferResult } from './types.js';

/**
 * The transfer behind a response or data event, for transferControl and toFile: a property of the
 * event that is not enumerable, so deepEqual, JSON and spreading never see it. Not a WeakMap keyed
 * by events: V8's scavenges keep the values of an old WeakMap alive though their keys die young,
 * so every transfer's objects (its job, subscriber, request) survived to the old generation (~1.5 KB
 * per transfer, measured) and were only freed by major GCs.
 */
const JOB = Symbol('rxcurl.transfer');
// One descriptor, filled for each call: a fresh object per event would be one more allocation.
const jobProperty: PropertyDescriptor = { value: undefined };

type WithJob = { [JOB]?: TransferJob };

function attachJob(event: TransferEvent, job: TransferJob): void {
  jobProperty.value = job;
  Object.defineProperty(event, JOB, jobProperty);
  jobProperty.value = undefined;
}

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
  return (event as WithJob)[JOB];
}

/** Where work started for the transfer that emitted `event` (a response or data event) is tracked. */
export function pendingWorkOf(event: TransferEvent): PendingWork | undefined {
  return (event as WithJob)[JOB]?.pendingWork;
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
    attachJob(event, job);
    if (job.bodyRead) markSpentBody(event);
    this.subscriber.next(event);
  }

  onData(chunk: LentChunk, job: TransferJob): void {
    const event: DataEvent = { type: 'data', chunk: ownChunk(chunk) };
    attachJob(event, job);
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
