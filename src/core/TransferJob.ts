import type { Listed } from './DenseList.js';
import { publishDone, publishError, publishResponse } from './diagnostics.js';
import type { LentChunk } from './LentChunk.js';
import type { DriverTransfer } from './MultiDriver.js';
import type { NormalizedRequest } from './NormalizedRequest.js';
import type { PendingWork } from './PendingWork.js';
import type { TransferHandler } from './TransferHandler.js';
import type { ResponseHead, TransferResult } from './types.js';

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

/**
 * One transfer in the engine: its request, its handler, and its state. The driver reports to it
 * through {@link DriverTransfer}; its lifecycle (`end`, `settle`) is the engine's alone.
 */
export class TransferJob implements TransferControl, DriverTransfer, Listed {
  /** Its place in the engine's list of transfers in flight. */
  listIndex = -1;
  driverState: unknown = undefined;
  #active = true;
  #responded = false;
  #paused = false;
  #bodyRead = false;
  #failure: unknown = undefined;
  /** The engine's per-transfer extras (abort listener, timeout backstop), only when the request asked for them. */
  cleanup: (() => void) | undefined = undefined;

  constructor(
    readonly id: number,
    readonly request: NormalizedRequest,
    private readonly handler: TransferHandler,
    private readonly onResume: (job: TransferJob) => void,
    /** Work that must finish before the Curl's close() resolves (a file being removed). */
    readonly pendingWork: PendingWork,
  ) {}

  /** Running: not finished, failed or cancelled. */
  get active(): boolean {
    return this.#active;
  }
  get responded(): boolean {
    return this.#responded;
  }
  get paused(): boolean {
    return this.#paused;
  }
  /** libcurl has read from a one-shot (Readable) body: this request cannot be sent again. */
  get bodyRead(): boolean {
    return this.#bodyRead;
  }
  /** What a handler threw during one of this transfer's callbacks; it replaces libcurl's result. */
  get failure(): unknown {
    return this.#failure;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#active) this.onResume(this);
  }

  // --- DriverTransfer: what the driver reports ------------------------------------------------

  response(head: ResponseHead): void {
    if (this.#responded || !this.#active || this.#failure !== undefined) return;
    this.#responded = true;
    publishResponse(this.id, head);
    this.handler.onResponse(head, this);
  }

  data(chunk: LentChunk): void {
    if (this.#active && this.#failure === undefined) this.handler.onData(chunk, this);
  }

  progress(downloaded: number, downloadTotal: number, uploaded: number, uploadTotal: number): void {
    if (this.#active && this.#failure === undefined)
      this.handler.onProgress(downloaded, downloadTotal, uploaded, uploadTotal);
  }

  failed(error: unknown): void {
    this.#failure ??= error;
  }

  readFromBody(): void {
    this.#bodyRead = true;
  }

  // --- the engine's ----------------------------------------------------------------------------

  /** No more events: the transfer is over for the driver and the handler, whatever libcurl says later. */
  end(): void {
    this.#active = false;
    const { cleanup } = this;
    this.cleanup = undefined;
    cleanup?.();
  }

  /** Passes the outcome to the handler; the engine calls it once the transfer has ended. */
  settle(result: TransferResult | undefined, error: unknown): void {
    if (error !== undefined) {
      publishError(this.id, this.request.url, error);
      this.handler.onError(error, this);
    } else {
      publishDone(result!);
      this.handler.onComplete(result!, this);
    }
  }
}
