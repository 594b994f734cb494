import type { LentChunk } from './LentChunk.js';
import type { TransferJob } from './TransferJob.js';
import type { ResponseHead, TransferResult } from './types.js';

/**
 * Where the engine reports one transfer: the front end's side of the transfer protocol, in the
 * spirit of undici's dispatch handlers. `transfer()` wraps its Subscriber in one; a bulk front end
 * can pass plain objects and allocate nothing from RxJS per transfer.
 *
 * Order: at most one `onResponse`, then `onData` in byte order interleaved with `onProgress`, then
 * exactly one of `onComplete` or `onError` — unless the transfer is cancelled, which ends it silently.
 */
export interface TransferHandler {
  /** The final response head, after redirects. */
  onResponse(head: ResponseHead, job: TransferJob): void;
  /**
   * A body chunk, lent: valid during the call only, so a handler that keeps bytes copies them. `job`
   * pauses the transfer (TransferControl) if the consumer is slower.
   */
  onData(chunk: LentChunk, job: TransferJob): void;
  /** Bytes so far, with `progress: true`. */
  onProgress(downloaded: number, downloadTotal: number, uploaded: number, uploadTotal: number): void;
  /** libcurl finished the transfer with CURLE_OK. */
  onComplete(result: TransferResult, job: TransferJob): void;
  /** It failed: a CurlError, or what a handler threw while it ran. */
  onError(error: unknown, job: TransferJob | undefined): void;
}
