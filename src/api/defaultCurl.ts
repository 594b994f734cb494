import { defer, type Observable } from 'rxjs';
import type { TransferEvent } from '../core/types.js';
import { Curl } from './Curl.js';
import type { CurlRequest } from './CurlRequest.js';
import type { CurlResponse } from './CurlResponse.js';
import type { DownloadEvent } from './DownloadEvent.js';
import type { DownloadOptions } from './DownloadOptions.js';

let shared: Curl | undefined;

/** The Curl behind the top-level functions, created on first use. */
export function defaultCurl(): Curl {
  shared ??= new Curl();
  return shared;
}

/**
 * `transfer()` on the default Curl, created on first use.
 *
 * @example
 * ```ts
 * transfer('https://example.com/').pipe(text()).subscribe((html) => console.log(html.length));
 * ```
 */
export function transfer(request: CurlRequest | string): Observable<TransferEvent> {
  return defer(() => defaultCurl().transfer(request));
}

/**
 * `request()` on the default Curl, created on first use.
 *
 * @example
 * ```ts
 * const res = await lastValueFrom(request('https://example.com/'));
 * console.log(res.status, res.text());
 * ```
 */
export function request(request: CurlRequest | string): Observable<CurlResponse> {
  return defer(() => defaultCurl().request(request));
}

/**
 * `download()` on the default Curl, created on first use.
 *
 * @example
 * ```ts
 * const done = await lastValueFrom(download({ url: 'https://example.com/big.iso', resume: true }, 'big.iso'));
 * ```
 */
export function download(
  request: CurlRequest | string,
  path: string,
  options?: DownloadOptions,
): Observable<DownloadEvent> {
  return defer(() => defaultCurl().download(request, path, options));
}
