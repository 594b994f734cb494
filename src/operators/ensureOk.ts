import { type MonoTypeOperatorFunction, tap } from 'rxjs';
import type { CurlResponse } from '../api/CurlResponse.js';
import { hasSpentBody, markSpentBody } from '../core/spentBody.js';
import type { ResponseEvent, TransferEvent } from '../core/types.js';
import { HttpError } from '../errors/HttpError.js';

/**
 * Errors with HttpError when a response has status 400 or more. Works on transfer events (the
 * `response` event is checked, before any body arrives) and on buffered CurlResponses.
 *
 * @example
 * ```ts
 * curl.request(url).pipe(ensureOk()).subscribe({
 *   next: (res) => console.log(res.text()),
 *   error: (error: HttpError | CurlError) => console.error(error.message), // 'HTTP 404 from …'
 * });
 * ```
 */
export function ensureOk<T extends TransferEvent | CurlResponse>(): MonoTypeOperatorFunction<T> {
  return tap((value) => {
    if ('type' in value) {
      if (value.type !== 'response') return;
      const event = value as ResponseEvent;
      if (event.status >= 400) throw inherit(event, new HttpError(event.status, event.headers, event.url));
    } else if (value.status >= 400) {
      throw inherit(value, new HttpError(value.status, value.headers, value.url, value));
    }
  });
}

/** The error of a response whose request consumed its one-shot body is not retried either. */
function inherit(response: object, error: HttpError): HttpError {
  if (hasSpentBody(response)) markSpentBody(error);
  return error;
}
