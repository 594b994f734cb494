import type { Observable } from 'rxjs';
import type { LentChunk } from './LentChunk.js';
import type { NormalizedRequest } from './NormalizedRequest.js';
import type { ResponseHead, TransferResult } from './types.js';

/** What the driver reports from libcurl's multi callbacks (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION). */
export interface MultiCallbacks {
  /** `what` is a CURL_POLL_* value; CURL_POLL_REMOVE ends the interest in `fd`. */
  socket(fd: number, what: number): void;
  /** -1 deletes the timer, 0 asks for an expiry on the next turn, n replaces any earlier timer. */
  timer(ms: number): void;
  /** Runs `op` now, or after the current action when called from inside one (libcurl forbids re-entry). */
  defer(op: () => void): void;
  /** Our own code threw inside one of those callbacks: the engine can no longer trust its socket state. */
  failed(error: unknown): void;
}

/**
 * A transfer as a driver sees it: a read-only request and state, and the methods it reports
 * what libcurl delivers to. Its lifecycle is the engine's: a driver never ends a transfer, it
 * reports its result through `drain`. A driver may keep its own per-transfer state (its easy
 * handle) in `driverState`: a Map keyed by transfers would keep every transfer's objects alive
 * until a major GC (see DenseList).
 */
export interface DriverTransfer {
  readonly id: number;
  readonly request: NormalizedRequest;
  /** Still wanted; once false, the driver delivers nothing more and lets libcurl abort it. */
  readonly active: boolean;
  /** Its consumer asked for no more data for now: hold it back (CURL_WRITEFUNC_PAUSE). */
  readonly paused: boolean;
  /** The response head has been reported. */
  readonly responded: boolean;
  /** The driver's own state for this transfer; the engine never reads it. */
  driverState: unknown;
  /** The final response head; ignored after the first. */
  response(head: ResponseHead): void;
  /** A body chunk, in order; lent: valid during the call only (the driver may reuse its memory). */
  data(chunk: LentChunk): void;
  /** Bytes so far, for requests with `progress`. */
  progress(downloaded: number, downloadTotal: number, uploaded: number, uploadTotal: number): void;
  /** Reporting this transfer threw (or a limit was hit): it fails with `error`, whatever libcurl reports. */
  failed(error: unknown): void;
  /** libcurl read from a one-shot body: the request cannot be sent again. */
  readFromBody(): void;
}

/**
 * A CURLMcode: what a call on the multi handle returned. Not a CURLcode, though both are numbers;
 * a failure becomes a CurlMultiError.
 */
export type MultiCode = number;

/**
 * The engine's view of libcurl's multi interface. The native driver implements it with libcurl
 * through koffi; the scripted driver (rxcurl/testing) with scripts on virtual time.
 */
export interface MultiDriver {
  /** Creates a fresh multi handle that reports to `callbacks`. */
  open(callbacks: MultiCallbacks): void;
  /**
   * Attaches an easy handle configured for `transfer` and adds it. Throws a CurlError for a request
   * it cannot configure, a CurlMultiError when libcurl refuses the handle.
   */
  add(transfer: DriverTransfer): void;
  /** Removes the transfer's easy handle and releases it. Idempotent. */
  remove(transfer: DriverTransfer): void;
  /** Lets a paused transfer go on: what it holds back is delivered, libcurl reads its socket again. */
  resume(transfer: DriverTransfer): void;
  /** curl_multi_socket_action. fd -1 is CURL_SOCKET_TIMEOUT. */
  socketAction(fd: number, events: number): MultiCode;
  /** running_handles as of the last action. */
  readonly runningHandles: number;
  /** Drains curl_multi_info_read; for each finished transfer, removes its handle and passes on its result. */
  drain(onDone: (transfer: DriverTransfer, result: TransferResult) => void): void;
  /** curl_multi_socket_all. */
  socketAll(): MultiCode;
  /** Readiness of `fd` as CURL_CSELECT_* bitmasks, watching the CURL_POLL_* interest `interest` emits. */
  readiness(fd: number, interest: Observable<number>): Observable<number>;
  /** The text for a CURLMcode. */
  describeMultiCode(code: MultiCode): string;
  /** Easy handles attached to transfers, and idle ones kept for reuse. */
  handleCounts(): { attached: number; pooled: number };
  /** Removes what is still attached and cleans up the multi handle. The driver can be opened again. */
  close(): void;
}
