import { defer, type Observable } from 'rxjs';
import type { CurlRequest, CurlResponse, DownloadEvent, TransferEvent } from '../core/types.js';
import { Curl } from './Curl.js';

let shared: Curl | undefined;

/** The Curl behind the top-level functions, created on first use. */
export function defaultCurl(): Curl {
  shared ??= new Curl();
  return shared;
}

/** `transfer()` on the default Curl. */
export function transfer(request: CurlRequest | string): Observable<TransferEvent> {
  return defer(() => defaultCurl().transfer(request));
}

/** `request()` on the default Curl. */
export function request(request: CurlRequest | string): Observable<CurlResponse> {
  return defer(() => defaultCurl().request(request));
}

/** `download()` on the default Curl. */
export function download(request: CurlRequest | string, path: string): Observable<DownloadEvent> {
  return defer(() => defaultCurl().download(request, path));
}
