import type { CurlError } from '../errors/CurlError.js';
import type { TransferQueue } from '../scheduling/TransferQueue.js';
import type { CurlRequest } from './CurlRequest.js';
import type { CurlResponse } from './CurlResponse.js';

/**
 * How one request of `requestAll()` ended: its response, or the error it failed with. A failure
 * is a value here, never an error of the stream.
 *
 * @example
 * ```ts
 * curl.requestAll(urls).subscribe((s: Settled) => {
 *   if (s.error) console.error(s.index, s.error.codeName);
 *   else console.log(s.index, s.response.status, s.response.body.length);
 * });
 * ```
 */
export type Settled =
  | {
      /** The request's position in the source, from 0. */
      index: number;
      /** The request as given. */
      request: CurlRequest | string;
      /** Its response, body buffered. */
      response: CurlResponse;
      /** Absent on success. */
      error?: undefined;
    }
  | {
      /** The request's position in the source, from 0. */
      index: number;
      /** The request as given. */
      request: CurlRequest | string;
      /** Absent on failure. */
      response?: undefined;
      /** Why it failed: a CurlError (a CurlMultiError for a refused multi call). */
      error: CurlError;
    };

/**
 * Options of `requestAll()`.
 *
 * @example
 * ```ts
 * curl.requestAll(urls, { concurrency: 16 } satisfies RequestAllOptions);
 * ```
 */
export interface RequestAllOptions {
  /** Transfers at once; default 64. Not with a `queue`, whose own concurrency applies. */
  concurrency?: number;
  /**
   * A queue whose limits, fairness, retries and Retry-After pauses apply to these requests (shared
   * with whatever else runs on it); the source is read at most its `lookahead` ahead of what settled.
   */
  queue?: TransferQueue<CurlRequest | string>;
}
