import type { TransferResult } from '../core/types.js';
import { curlCodeName } from './curlCodes.js';
import { multiCodeName } from './multiCodes.js';

/**
 * The `code` of a CurlError: libcurl's CURLcode, or `'ABORTED'` (a signal or `close()`), or `'INVALID_INPUT'` (a bad request),
 * or `'MULTI_ERROR'` (libcurl's multi handle failed: a {@link CurlMultiError} with the CURLMcode).
 *
 * @example
 * ```ts
 * const retryable = (code: CurlErrorCode) => code === CURLE.COULDNT_CONNECT || code === CURLE.OPERATION_TIMEDOUT;
 * ```
 */
export type CurlErrorCode = number | 'ABORTED' | 'INVALID_INPUT' | 'MULTI_ERROR';

/**
 * A transfer that did not complete: libcurl's CURLcode, a cancellation, or a request rejected before it started.
 *
 * @example
 * ```ts
 * curl.request('http://127.0.0.1:1/').subscribe({
 *   error: (error) => {
 *     if (error instanceof CurlError) console.log(error.code, error.codeName, error.message); // 7 'CURLE_COULDNT_CONNECT' …
 *   },
 * });
 * ```
 */
export class CurlError extends Error {
  /** Always 'CurlError'. */
  override name = 'CurlError';
  /** libcurl's CURLcode, or 'ABORTED', 'INVALID_INPUT' or 'MULTI_ERROR'. */
  readonly code: CurlErrorCode;
  /** The code's name: 'CURLE_…', 'ABORTED', 'INVALID_INPUT', or 'CURLM_…' for a CurlMultiError. */
  readonly codeName: string;
  /** The URL of the request. */
  readonly url: string;
  /** What libcurl reported, when libcurl ran the transfer (also on `results$`). */
  readonly result?: TransferResult;

  constructor(code: CurlErrorCode, message: string, url: string, result?: TransferResult, codeName?: string) {
    super(message);
    this.code = code;
    this.codeName = codeName ?? (typeof code === 'number' ? curlCodeName(code) : code);
    this.url = url;
    if (result) this.result = result;
  }

  /** The error for a bad request field: names the field and what is wrong with it. */
  static invalidInput(field: string, problem: string, url = ''): CurlError {
    return new CurlError('INVALID_INPUT', `invalid request: ${field} ${problem}`, url);
  }

  /** The error of a transfer cancelled by its signal or by `close()`: code 'ABORTED'. */
  static aborted(url: string, reason = 'transfer aborted'): CurlError {
    return new CurlError('ABORTED', reason, url);
  }
}

/**
 * libcurl's multi handle refused a call (`curl_multi_add_handle`, `curl_multi_socket_action`): the
 * CURLMcode is in `multiCode` and named in `codeName`. `code` is `'MULTI_ERROR'`, never a number,
 * so a CURLMcode is never read as a CURLcode (7 is CURLM_ADDED_ALREADY, not CURLE_COULDNT_CONNECT),
 * and `isTransient` does not retry it.
 *
 * @example
 * ```ts
 * curl.request(url).subscribe({
 *   error: (error) => {
 *     if (error instanceof CurlMultiError) console.log(error.multiCode, error.codeName); // 4 'CURLM_INTERNAL_ERROR'
 *   },
 * });
 * ```
 */
export class CurlMultiError extends CurlError {
  /** Always 'CurlMultiError'. */
  override name = 'CurlMultiError';
  /** libcurl's CURLMcode. */
  readonly multiCode: number;

  constructor(multiCode: number, message: string, url: string) {
    super('MULTI_ERROR', message, url, undefined, multiCodeName(multiCode));
    this.multiCode = multiCode;
  }
}
