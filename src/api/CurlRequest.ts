import type { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import type { HttpVersion } from '../core/httpVersions.js';
import type { TlsOptions } from '../core/types.js';
import type { FormPart } from './FormPart.js';

/**
 * What a request can send: bytes or text at once, or a `Readable` or an Observable streamed.
 *
 * @example
 * ```ts
 * curl.request({ url, method: 'PUT', body: createReadStream('big.iso') });  // streamed
 * curl.request({ url, body: new URLSearchParams({ q: 'rxcurl' }) });        // a form
 * ```
 */
export type RequestBody = string | Uint8Array | Readable | Observable<Uint8Array> | URLSearchParams;

/**
 * One request, as users write it. Every field but `url` is optional.
 *
 * @example
 * ```ts
 * const req: CurlRequest = {
 *   url: 'https://example.com/api/items',
 *   json: { name: 'rxcurl' },
 *   headers: { authorization: `Bearer ${token}` },
 *   timeoutMs: 5000,
 * };
 * curl.request(req).pipe(ensureOk()).subscribe((res) => console.log(res.status));
 * ```
 */
export interface CurlRequest {
  /** The URL; its scheme must be one of `protocols`. */
  url: string;
  /** Default GET, or POST when a body is given. */
  method?: string;
  /** Request headers, as a record (an array repeats the header) or as name/value pairs. */
  headers?: Record<string, string | string[]> | Iterable<[string, string]>;
  /** The request body; see {@link RequestBody}. */
  body?: RequestBody;
  /** Serialised as JSON, with content-type application/json. */
  json?: unknown;
  /** The whole transfer (CURLOPT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** The connection phase only (CURLOPT_CONNECTTIMEOUT_MS). */
  connectTimeoutMs?: number;
  /** Default true. */
  followRedirects?: boolean;
  /** Default 10. */
  maxRedirects?: number;
  /** Default true: ask for every encoding libcurl can decode and decode it. */
  decompress?: boolean;
  /** The HTTP version to ask for; default libcurl's choice. */
  httpVersion?: HttpVersion;
  /** TLS verification and client certificates. */
  tls?: TlsOptions;
  /** e.g. 'http://127.0.0.1:3128'. */
  proxy?: string;
  /** HTTP authentication. */
  auth?: {
    /** The user name. */
    username: string;
    /** The password. */
    password: string;
  };
  /** Allowed schemes, also on redirects. Default ['http', 'https']. */
  protocols?: string[];
  /** Emit progress events: at most one per 100 ms, and a final one before `done`. */
  progress?: boolean;
  /** Default 'rxcurl/<version> libcurl/<version>'. */
  userAgent?: string;
  /** Abort when slower than this for that long. */
  lowSpeed?: {
    /** The lowest acceptable average speed… */
    bytesPerSecond: number;
    /** …over this many seconds. */
    seconds: number;
  };
  /** Abort a response body larger than this. */
  maxBodyBytes?: number;
  /** download() only: continue a partial file with a range request. */
  resume?: boolean;
  /** Aborting errors the transfer with code 'ABORTED'. */
  signal?: AbortSignal;
  /** Escape hatch: libcurl options by CURLOPT_ name without the prefix. */
  curlOptions?: Record<string, string | number | boolean>;
  /**
   * A multipart/form-data body, built with libcurl's mime API: {@link FormPart}s, or a web
   * `FormData` (its File and Blob entries are streamed). Not with `body` or `json`.
   */
  form?: FormData | FormPart[];
}
