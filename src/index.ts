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
import { wireNativeBinding } from './api/nativeBinding.js';
import { libcurlBinding } from './native/binding.js';

// The one place that ties the API to libcurl: rxcurl/testing leaves it out and never loads koffi.
wireNativeBinding(libcurlBinding);

export { Curl, DEFAULT_REQUEST_MAX_BODY_BYTES } from './api/Curl.js';
export type { CurlOptions } from './api/CurlOptions.js';
export type { CurlRequest, ProxyOptions, RequestBody } from './api/CurlRequest.js';
export type { CurlResponse } from './api/CurlResponse.js';
export type { DownloadEvent } from './api/DownloadEvent.js';
export type { DownloadOptions } from './api/DownloadOptions.js';
export { download, request, transfer } from './api/defaultCurl.js';
export type { FormPart } from './api/FormPart.js';
export type { RequestAllOptions, Settled } from './api/Settled.js';
export {
  TRANSFER_CHANNELS,
  type TransferCancelMessage,
  type TransferDoneMessage,
  type TransferErrorMessage,
  type TransferResponseMessage,
  type TransferStartMessage,
} from './core/diagnostics.js';
export type { HttpVersion } from './core/httpVersions.js';
export type { SshOptions } from './core/SshOptions.js';
export { transferControl } from './core/SubscriberHandler.js';
export type { TransferControl } from './core/TransferJob.js';
export type {
  CurlStats,
  DataEvent,
  DoneEvent,
  Headers,
  ProgressEvent,
  ResponseEvent,
  Timings,
  TlsOptions,
  TransferEvent,
  TransferResult,
} from './core/types.js';
export { CurlError, type CurlErrorCode, CurlMultiError } from './errors/CurlError.js';
export { CURLE, curlCodeName } from './errors/curlCodes.js';
export { HttpError } from './errors/HttpError.js';
export { CURLM, multiCodeName } from './errors/multiCodes.js';
export type { LibcurlVersion } from './native/version.js';
export { body } from './operators/body.js';
export { ensureOk } from './operators/ensureOk.js';
export { json } from './operators/json.js';
export { isTransient, type RetryTransientOptions, retryTransient } from './operators/retryTransient.js';
export { text } from './operators/text.js';
export { type ToFileOptions, toFile } from './operators/toFile.js';
export type { KeyStats, QueueStats } from './scheduling/QueueStats.js';
export { schedule } from './scheduling/schedule.js';
export { TransferQueue } from './scheduling/TransferQueue.js';
export type {
  PerKeyLimits,
  QueueRetryOptions,
  TransferQueueOptions,
} from './scheduling/TransferQueueOptions.js';
export { RXCURL_VERSION } from './version.js';
