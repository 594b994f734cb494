import type { Observable } from 'rxjs';
import type { TransferJob } from './TransferJob.js';
import type { TransferResult } from './types.js';

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
 * The engine's view of libcurl's multi interface. The native driver implements it with libcurl
 * through koffi; the scripted driver (rxcurl/testing) with scripts on virtual time.
 */
export interface MultiDriver {
  /** Creates a fresh multi handle that reports to `callbacks`. */
  open(callbacks: MultiCallbacks): void;
  /** Attaches an easy handle configured for `job` and adds it. Throws a CurlError for a request it cannot configure. */
  add(job: TransferJob): void;
  /** Removes `job`'s easy handle and releases it. Idempotent. */
  remove(job: TransferJob): void;
  /** Lets a paused transfer go on: what it holds back is delivered, libcurl reads its socket again. */
  resume(job: TransferJob): void;
  /** curl_multi_socket_action; returns the CURLMcode. fd -1 is CURL_SOCKET_TIMEOUT. */
  socketAction(fd: number, events: number): number;
  /** running_handles as of the last action. */
  readonly runningHandles: number;
  /** Drains curl_multi_info_read; for each finished transfer, removes its handle and passes on its result. */
  drain(onDone: (job: TransferJob, result: TransferResult) => void): void;
  /** curl_multi_socket_all; returns the CURLMcode. */
  socketAll(): number;
  /** Readiness of `fd` as CURL_CSELECT_* bitmasks, watching the CURL_POLL_* interest `interest` emits. */
  readiness(fd: number, interest: Observable<number>): Observable<number>;
  /** The text for a CURLMcode. */
  describeMultiCode(code: number): string;
  /** Easy handles attached to transfers, and idle ones kept for reuse. */
  handleCounts(): { attached: number; pooled: number };
  /** Removes what is still attached and cleans up the multi handle. The driver can be opened again. */
  close(): void;
}
