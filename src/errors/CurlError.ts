import type { TransferResult } from '../core/types.js';
import { CURLE_NAMES } from './curlCodeNames.js';

/**
 * The `code` of a CurlError: libcurl's CURLcode, or `'ABORTED'` (a signal or `close()`), or `'INVALID_INPUT'` (a bad request).
 *
 * @example
 * ```ts
 * const retryable = (code: CurlErrorCode) => code === 7 || code === 28;
 * ```
 */
export type CurlErrorCode = number | 'ABORTED' | 'INVALID_INPUT';

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
  /** libcurl's CURLcode, or 'ABORTED', or 'INVALID_INPUT'. */
  readonly code: CurlErrorCode;
  /** The code's name: 'CURLE_…', 'ABORTED' or 'INVALID_INPUT'. */
  readonly codeName: string;
  /** The URL of the request. */
  readonly url: string;
  /** What libcurl reported, when libcurl ran the transfer (also on `results$`). */
  readonly result?: TransferResult;

  constructor(code: CurlErrorCode, message: string, url: string, result?: TransferResult, codeName?: string) {
    super(message);
    this.code = code;
    this.codeName = codeName ?? curlCodeName(code);
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

export function curlCodeName(code: CurlErrorCode): string {
  if (typeof code === 'string') return code;
  return CURLE_NAMES[code] ?? `CURLE_${code}`;
}
