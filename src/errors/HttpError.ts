import type { CurlResponse, Headers } from '../core/types.js';

/** A response whose status is 400 or more, raised by `ensureOk()`, `download()` and the CLI. */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly headers: Headers;
  readonly url: string;
  readonly response?: CurlResponse;

  constructor(status: number, headers: Headers, url: string, response?: CurlResponse) {
    super(`HTTP ${status} from ${url}`);
    this.status = status;
    this.headers = headers;
    this.url = url;
    if (response) this.response = response;
  }
}
