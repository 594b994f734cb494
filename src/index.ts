/**
 * rxcurl: libcurl's multi_socket interface driven by RxJS. Every transfer is a cold Observable;
 * start with {@link Curl}, {@link request}, {@link transfer} or {@link download}.
 *
 * @example
 * ```ts
 * import { lastValueFrom } from 'rxjs';
 * import { Curl, ensureOk } from 'rxcurl';
 *
 * await using curl = new Curl();
 * const res = await lastValueFrom(curl.request('https://example.com/').pipe(ensureOk()));
 * console.log(res.status, res.text().length);
 * ```
 *
 * @module rxcurl
 */
export { Curl, DEFAULT_REQUEST_MAX_BODY_BYTES } from './api/Curl.js';
export { download, request, transfer } from './api/defaultCurl.js';
export { type TransferControl, transferControl } from './core/TransferJob.js';
export type {
  CurlOptions,
  CurlRequest,
  CurlResponse,
  CurlStats,
  DataEvent,
  DoneEvent,
  DownloadEvent,
  Headers,
  HttpVersion,
  ProgressEvent,
  RequestBody,
  ResponseEvent,
  Timings,
  TlsOptions,
  TransferEvent,
  TransferResult,
} from './core/types.js';
export { CurlError, type CurlErrorCode } from './errors/CurlError.js';
export { HttpError } from './errors/HttpError.js';
export type { LibcurlVersion } from './native/version.js';
export { body } from './operators/body.js';
export { ensureOk } from './operators/ensureOk.js';
export { json } from './operators/json.js';
export { isTransient, type RetryTransientOptions, retryTransient } from './operators/retryTransient.js';
export { text } from './operators/text.js';
export { type ToFileOptions, toFile } from './operators/toFile.js';
export { RXCURL_VERSION } from './version.js';
