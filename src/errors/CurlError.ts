import type { TransferResult } from '../core/types.js';
import { CURLE_NAMES } from './curlCodeNames.js';

export type CurlErrorCode = number | 'ABORTED' | 'INVALID_INPUT';

/** A transfer that did not complete: libcurl's CURLcode, a cancellation, or a request rejected before it started. */
export class CurlError extends Error {
  override name = 'CurlError';
  readonly code: CurlErrorCode;
  readonly codeName: string;
  readonly url: string;
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

  static aborted(url: string, reason = 'transfer aborted'): CurlError {
    return new CurlError('ABORTED', reason, url);
  }
}

export function curlCodeName(code: CurlErrorCode): string {
  if (typeof code === 'string') return code;
  return CURLE_NAMES[code] ?? `CURLE_${code}`;
}
