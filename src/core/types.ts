/**
 * Response headers: names lower-cased, a repeated header as an array of its values in order.
 *
 * @example
 * ```ts
 * const res = await lastValueFrom(curl.request('https://example.com/'));
 * const type = res.headers['content-type'];           // 'text/html; charset=UTF-8'
 * const cookies = [res.headers['set-cookie'] ?? []].flat();
 * ```
 */
export type Headers = Record<string, string | string[]>;

/**
 * TLS settings of a request: verification, and PEM content or files for the CA, certificate and key.
 *
 * @example
 * ```ts
 * curl.request({
 *   url: 'https://internal.test/',
 *   tls: { caFile: '/etc/ssl/internal-ca.pem', certFile: 'client.pem', keyFile: 'client.key' },
 * });
 * ```
 */
export interface TlsOptions {
  /** Verification is on unless this is true. */
  insecure?: boolean;
  /** PEM content, as in node:tls. */
  ca?: string | Uint8Array;
  /** The client certificate, PEM content. */
  cert?: string | Uint8Array;
  /** The client certificate's private key, PEM content. */
  key?: string | Uint8Array;
  /** Or paths to PEM files. */
  caFile?: string;
  /** Path of the client certificate, PEM. */
  certFile?: string;
  /** Path of the client certificate's private key, PEM. */
  keyFile?: string;
}

/**
 * How long each phase of a transfer took, in milliseconds from its start (libcurl's `*_TIME_T` infos).
 *
 * @example
 * ```ts
 * const { timings } = (await lastValueFrom(curl.request(url))).result;
 * console.log(`connect ${timings.connectMs} ms, first byte ${timings.firstByteMs} ms`);
 * ```
 */
export interface Timings {
  /** Name resolution done. */
  dnsMs: number;
  /** TCP connection made. */
  connectMs: number;
  /** TLS handshake done (0 without TLS). */
  tlsMs: number;
  /** First response byte received. */
  firstByteMs: number;
  /** The whole transfer. */
  totalMs: number;
  /** Time spent on redirects before the final request. */
  redirectMs: number;
}

/**
 * What libcurl reported for one finished transfer.
 *
 * @example
 * ```ts
 * curl.results$.subscribe((r) =>
 *   console.log(r.ok ? r.status : r.codeName, r.url, `${r.downloadedBytes} B in ${r.timings.totalMs} ms`),
 * );
 * ```
 */
export interface TransferResult {
  /** A number unique to the transfer within the process (the diagnostics channels key on it). */
  id: number;
  /** The URL requested. */
  url: string;
  /** The last URL, after redirects. */
  effectiveUrl: string;
  /** The request method. */
  method: string;
  /** libcurl's result is CURLE_OK. */
  ok: boolean;
  /** libcurl's CURLcode, 0 when ok. */
  code: number;
  /** The CURLcode's name, e.g. 'CURLE_COULDNT_CONNECT'. */
  codeName: string;
  /** libcurl's error text; '' when ok. */
  message: string;
  /** The HTTP status of the last response; 0 when there was none. */
  status: number;
  /** '1.0' | '1.1' | '2' | '3', or '' when there was no HTTP response. */
  httpVersion: string;
  /** Body bytes received, without chunked framing. */
  downloadedBytes: number;
  /** Body bytes sent. */
  uploadedBytes: number;
  /** Redirects followed. */
  redirects: number;
  /** The IP address of the last connection. */
  primaryIp: string;
  /** The port of the last connection. */
  primaryPort: number;
  /**
   * New connections libcurl made for this transfer, redirects included (CURLINFO_NUM_CONNECTS):
   * 0 when it only used connections kept from earlier transfers.
   */
  connects: number;
  /** The transfer got its answer over a connection kept from an earlier one: `connects` is 0 and `status` is not. */
  connectionReused: boolean;
  /** How long each phase took. */
  timings: Timings;
  /**
   * download() only: the remote file's time in ms since the epoch (HTTP Last-Modified, FTP MDTM,
   * SFTP mtime, through CURLOPT_FILETIME); absent when the server did not say.
   */
  fileTime?: number;
  /** download() only: the request's time condition was not met (304, or a Last-Modified not newer). */
  conditionUnmet?: boolean;
}

/** The final response head, as the driver reads it: status line and headers after redirects. */
export interface ResponseHead {
  status: number;
  httpVersion: string;
  headers: Headers;
  url: string;
}

/**
 * The final response head, after redirects: at most one per transfer, before any `data`.
 *
 * @example
 * ```ts
 * curl.transfer(url).pipe(
 *   filter((e): e is ResponseEvent => e.type === 'response'),
 * ).subscribe((e) => console.log(e.status, e.headers['content-length']));
 * ```
 */
export interface ResponseEvent {
  /** The event's kind. */
  type: 'response';
  /** The HTTP status. */
  status: number;
  /** '1.0', '1.1', '2' or '3'. */
  httpVersion: string;
  /** The response headers. */
  headers: Headers;
  /** The URL that answered, after redirects. */
  url: string;
}
/**
 * A chunk of the response body, in order.
 *
 * @example
 * ```ts
 * let bytes = 0;
 * curl.transfer(url).subscribe((e) => {
 *   if (e.type === 'data') bytes += e.chunk.length;
 * });
 * ```
 */
export interface DataEvent {
  /** The event's kind. */
  type: 'data';
  /** The bytes; pass the event to {@link transferControl} to pause the transfer. */
  chunk: Buffer;
}
/**
 * Bytes so far, with `progress: true`: at most every 100 ms, and once more with the totals before `done`.
 *
 * @example
 * ```ts
 * curl.transfer({ url, progress: true }).subscribe((e) => {
 *   if (e.type === 'progress') console.log(`${e.downloaded} / ${e.downloadTotal || '?'}`);
 * });
 * ```
 */
export interface ProgressEvent {
  /** The event's kind. */
  type: 'progress';
  /** Body bytes received so far. */
  downloaded: number;
  /** The expected body size; 0 when unknown. */
  downloadTotal: number;
  /** Body bytes sent so far. */
  uploaded: number;
  /** The size of the request body; 0 when unknown. */
  uploadTotal: number;
}
/**
 * The transfer completed: exactly one, last, with libcurl's result.
 *
 * @example
 * ```ts
 * const done = await lastValueFrom(curl.transfer(url).pipe(last()));
 * if (done.type === 'done') console.log(done.result.status, done.result.timings.totalMs);
 * ```
 */
export interface DoneEvent {
  /** The event's kind. */
  type: 'done';
  /** What libcurl reported. */
  result: TransferResult;
}

/**
 * The events of one transfer: at most one `response`, `data` and `progress`, then one `done`.
 *
 * @example
 * ```ts
 * curl.transfer({ url, progress: true }).subscribe((event: TransferEvent) => {
 *   switch (event.type) {
 *     case 'response': console.log(event.status); break;
 *     case 'data': sink.write(event.chunk); break;
 *     case 'progress': console.log(event.downloaded); break;
 *     case 'done': console.log(event.result.timings.totalMs); break;
 *   }
 * });
 * ```
 */
export type TransferEvent = ResponseEvent | DataEvent | ProgressEvent | DoneEvent;

/**
 * Live counters of a Curl, from `stats()`.
 *
 * @example
 * ```ts
 * const { transfers, sockets, timerArmed } = curl.stats();
 * ```
 */
export interface CurlStats {
  /** Transfers in flight: subscribed, not yet done, errored or cancelled. */
  transfers: number;
  /** Easy handles attached to those transfers. */
  easyHandles: number;
  /** Idle easy handles kept for reuse. */
  pooledHandles: number;
  /** Sockets being watched for readiness. */
  sockets: number;
  /** Whether libcurl's timer is set. */
  timerArmed: boolean;
}
