import { CurlError } from '../errors/CurlError.js';
import { CURLE } from '../errors/curlCodes.js';
import { HttpError } from '../errors/HttpError.js';

// 408 (Request Timeout) and 429 (Too Many Requests) say "later", unlike the rest of 4xx.
const RETRYABLE_4XX = new Set([408, 429]);
// A URL libcurl cannot parse or whose scheme it does not speak fails the same way every time.
const INVALID_URL_CODES = new Set<unknown>([
  'INVALID_INPUT',
  CURLE.UNSUPPORTED_PROTOCOL,
  CURLE.URL_MALFORMAT,
]);

/**
 * Whether a download failed for good: a 4xx other than 408 and 429 (404, 410, 403…), or an
 * invalid URL. Another attempt would fail the same way, so the worker does not retry it.
 */
export function isPermanent(error: unknown): boolean {
  if (error instanceof HttpError)
    return error.status >= 400 && error.status < 500 && !RETRYABLE_4XX.has(error.status);
  return error instanceof CurlError && INVALID_URL_CODES.has(error.code);
}
