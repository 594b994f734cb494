import type { Readable } from 'node:stream';
import type { Observable, SchedulerLike } from 'rxjs';

/** Response headers: names lower-cased, a repeated header as an array of its values in order. */
export type Headers = Record<string, string | string[]>;

export interface TlsOptions {
  /** Verification is on unless this is true. */
  insecure?: boolean;
  /** PEM content, as in node:tls. */
  ca?: string | Uint8Array;
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  /** Or paths to PEM files. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export type RequestBody = string | Uint8Array | Readable | Observable<Uint8Array> | URLSearchParams;

export type HttpVersion = '1.0' | '1.1' | '2' | '2-prior-knowledge' | '3';

/** One request, as users write it. Every field but `url` is optional. */
export interface CurlRequest {
  url: string;
  /** Default GET, or POST when a body is given. */
  method?: string;
  headers?: Record<string, string | string[]> | Iterable<[string, string]>;
  body?: RequestBody;
  /** Serialised as JSON, with content-type application/json. */
  json?: unknown;
  /** The whole transfer (CURLOPT_TIMEOUT_MS). */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** Default true. */
  followRedirects?: boolean;
  /** Default 10. */
  maxRedirects?: number;
  /** Default true: ask for every encoding libcurl can decode and decode it. */
  decompress?: boolean;
  httpVersion?: HttpVersion;
  tls?: TlsOptions;
  /** e.g. 'http://127.0.0.1:3128'. */
  proxy?: string;
  auth?: { username: string; password: string };
  /** Allowed schemes, also on redirects. Default ['http', 'https']. */
  protocols?: string[];
  /** Emit progress events: at most one per 100 ms, and a final one before `done`. */
  progress?: boolean;
  /** Default 'rxcurl/<version> libcurl/<version>'. */
  userAgent?: string;
  /** Abort when slower than this for that long. */
  lowSpeed?: { bytesPerSecond: number; seconds: number };
  /** Abort a response body larger than this. */
  maxBodyBytes?: number;
  /** download() only: continue a partial file with a range request. */
  resume?: boolean;
  /** Aborting errors the transfer with code 'ABORTED'. */
  signal?: AbortSignal;
  /** Escape hatch: libcurl options by CURLOPT_ name without the prefix. */
  curlOptions?: Record<string, string | number | boolean>;
}

export interface Timings {
  dnsMs: number;
  connectMs: number;
  tlsMs: number;
  firstByteMs: number;
  totalMs: number;
  redirectMs: number;
}

/** What libcurl reported for one finished transfer. */
export interface TransferResult {
  id: number;
  url: string;
  effectiveUrl: string;
  method: string;
  /** libcurl's result is CURLE_OK. */
  ok: boolean;
  code: number;
  codeName: string;
  message: string;
  status: number;
  /** '1.0' | '1.1' | '2' | '3', or '' when there was no HTTP response. */
  httpVersion: string;
  downloadedBytes: number;
  uploadedBytes: number;
  redirects: number;
  primaryIp: string;
  primaryPort: number;
  timings: Timings;
}

export interface ResponseEvent {
  type: 'response';
  status: number;
  httpVersion: string;
  headers: Headers;
  url: string;
}
export interface DataEvent {
  type: 'data';
  chunk: Buffer;
}
export interface ProgressEvent {
  type: 'progress';
  downloaded: number;
  downloadTotal: number;
  uploaded: number;
  uploadTotal: number;
}
export interface DoneEvent {
  type: 'done';
  result: TransferResult;
}

export type TransferEvent = ResponseEvent | DataEvent | ProgressEvent | DoneEvent;

export interface CurlResponse {
  status: number;
  httpVersion: string;
  headers: Headers;
  url: string;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
  result: TransferResult;
}

export type DownloadEvent =
  | { type: 'progress'; downloaded: number; total: number }
  | { type: 'done'; path: string; bytes: number; result: TransferResult };

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

export interface CurlOptions {
  maxTotalConnections?: number;
  maxHostConnections?: number;
  maxConcurrentStreams?: number;
  /** Default true. */
  multiplex?: boolean;
  /** Path of the libcurl shared library. */
  libcurl?: string;
  /** Where timers run; default asyncScheduler. */
  scheduler?: SchedulerLike;
  /** Merged into every request. */
  defaults?: Partial<CurlRequest>;
  /** Cookie engine on (in memory), or a cookie file path. Default off. */
  cookies?: boolean | string;
}
