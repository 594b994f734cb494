import type { CurlResponse } from '../api/CurlResponse.js';
import type { Headers } from '../core/types.js';

/**
 * A response whose status is 400 or more, raised by `ensureOk()`, `download()` and the CLI.
 *
 * @example
 * ```ts
 * curl.request(url).pipe(
 *   ensureOk(),
 *   catchError((error) => (error instanceof HttpError && error.status === 404 ? of(undefined) : throwError(() => error))),
 * );
 * ```
 */
export class HttpError extends Error {
  /** Always 'HttpError'. */
  override name = 'HttpError';
  /** The HTTP status, 400 or more. */
  readonly status: number;
  /** The response headers. */
  readonly headers: Headers;
  /** The URL that answered. */
  readonly url: string;
  /** The whole response, when its body was buffered (`request()`). */
  readonly response?: CurlResponse;

  constructor(status: number, headers: Headers, url: string, response?: CurlResponse) {
    super(`HTTP ${status} from ${url}`);
    this.status = status;
    this.headers = headers;
    this.url = url;
    if (response) this.response = response;
  }
}
