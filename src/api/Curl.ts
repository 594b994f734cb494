import { asyncScheduler, type Observable } from 'rxjs';
import { Engine } from '../core/Engine.js';
import type { MultiDriver } from '../core/MultiDriver.js';
import type { CurlStats, TransferEvent, TransferResult } from '../core/types.js';
import type { LibcurlVersion } from '../native/version.js';
import { toResponse } from '../operators/toResponse.js';
import type { CurlOptions } from './CurlOptions.js';
import type { CurlRequest } from './CurlRequest.js';
import type { CurlResponse } from './CurlResponse.js';
import type { DownloadEvent } from './DownloadEvent.js';
import type { DownloadOptions } from './DownloadOptions.js';
import { downloadTo, type FileTransfers } from './downloadTo.js';
import { nativeBinding } from './nativeBinding.js';
import { normalizeRequest, type RequestContext } from './normalizeRequest.js';
import { requestAll } from './requestAll.js';
import type { RequestAllOptions, Settled } from './Settled.js';

/**
 * request() buffers the body in memory, so unless told otherwise it refuses bodies above this (256 MiB).
 *
 * @example
 * ```ts
 * curl.request({ url, maxBodyBytes: 2 * DEFAULT_REQUEST_MAX_BODY_BYTES });
 * ```
 */
export const DEFAULT_REQUEST_MAX_BODY_BYTES = 256 * 1024 * 1024;

/**
 * A transfer scheduler: one libcurl multi handle and the reactive engine that drives it.
 * Every method returns a cold Observable; subscribing starts a transfer, unsubscribing cancels it.
 *
 * @example
 * ```ts
 * await using curl = new Curl({ maxHostConnections: 8 });
 * curl.results$.subscribe((r) => console.log(r.ok ? r.status : r.codeName, r.url));
 * const pages = await lastValueFrom(
 *   from(urls).pipe(mergeMap((url) => curl.request(url).pipe(ensureOk()), 8), toArray()),
 * );
 * ```
 */
export class Curl implements AsyncDisposable {
  /** The loaded libcurl: version, TLS library, protocols and features. */
  static get version(): LibcurlVersion {
    return nativeBinding().version();
  }

  /** Every transfer libcurl reports done, success or failure, in completion order. Hot. */
  readonly results$: Observable<TransferResult>;
  /** running_handles after each action. Hot; replays the latest value. */
  readonly running$: Observable<number>;

  private readonly engine: Engine;
  private readonly context: RequestContext;
  private readonly bufferedContext: RequestContext;
  private readonly normalizeBuffered = (request: CurlRequest | string) =>
    normalizeRequest(request, this.bufferedContext);
  /** download()'s transfers: libcurl writes the body to a file itself. */
  private readonly files: FileTransfers;

  /** `driver` replaces libcurl: rxcurl/testing passes its scripted driver here. */
  constructor(options: CurlOptions = {}, driver?: MultiDriver) {
    checkOptions(options);
    const transport = driver ?? nativeBinding().createDriver(options);
    this.engine = new Engine(transport, options.scheduler ?? asyncScheduler);
    const shape = { defaults: options.defaults, multiplex: options.multiplex !== false };
    this.context = { ...shape, byUrl: new Map() };
    this.bufferedContext = { ...shape, maxBodyBytes: DEFAULT_REQUEST_MAX_BODY_BYTES, byUrl: new Map() };
    const { engine, context } = this;
    this.files = {
      transfer: (request, sink) => engine.transfer(() => ({ ...normalizeRequest(request, context), sink })),
      pendingWork: engine.pendingWork,
    };
    this.results$ = this.engine.results$.asObservable();
    this.running$ = this.engine.running$.asObservable();
  }

  /** One transfer as events: `response`, `data`…, `progress`…, then `done`. */
  transfer(request: CurlRequest | string): Observable<TransferEvent> {
    return this.engine.transfer(() => normalizeRequest(request, this.context));
  }

  /** One transfer with its body buffered: emits one CurlResponse, then completes. */
  request(request: CurlRequest | string): Observable<CurlResponse> {
    return this.engine.transfer(() => this.normalizeBuffered(request)).pipe(toResponse());
  }

  /**
   * Many buffered requests without an Observable per transfer: one `Settled` per request, in
   * completion order, then completion. At most `concurrency` (default 64) run at once; an Iterable or
   * AsyncIterable is pulled only as capacity frees. A failed transfer is a `Settled` with `error`,
   * never an error of the stream; unsubscribing cancels what runs.
   */
  requestAll(
    requests:
      | Observable<CurlRequest | string>
      | Iterable<CurlRequest | string>
      | AsyncIterable<CurlRequest | string>,
    options?: RequestAllOptions,
  ): Observable<Settled> {
    return requestAll(this.engine, this.normalizeBuffered, requests, options);
  }

  /**
   * Streams the body to a temporary file beside `path` and renames it on success only, with the
   * server's file time as its mtime. A libcurl error or a status >= 400 fails it; the temporary file
   * is removed before the error is delivered. `ifChanged`: only when the server has a newer file
   * than `path` (If-Modified-Since); otherwise `done` says `notModified` and the file stays as it is.
   */
  download(
    request: CurlRequest | string,
    path: string,
    options?: DownloadOptions,
  ): Observable<DownloadEvent> {
    return downloadTo(this.files, request, path, options);
  }

  /** Live counters: transfers in flight, easy handles, sockets watched, whether the timer is armed. */
  stats(): CurlStats {
    return this.engine.stats();
  }

  /** Calls the deprecated curl_multi_socket_all: libcurl re-checks every socket. Diagnostic only. */
  recheckAll(): void {
    this.engine.recheckAll();
  }

  /** Cancels what is in flight (CurlError 'ABORTED'), completes results$ and running$, frees the multi. */
  close(): Promise<void> {
    return this.engine.close();
  }

  /** `close()`, for `await using curl = new Curl()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function checkOptions(options: CurlOptions): void {
  for (const key of ['maxTotalConnections', 'maxHostConnections', 'maxConcurrentStreams'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
      throw new TypeError(`Curl option ${key} must be an integer >= 0, got ${String(value)}`);
    }
  }
  for (const key of ['hsts', 'altSvc'] as const) {
    const value: unknown = options[key];
    if (value !== undefined && (typeof value !== 'string' || value === '' || value.includes('\0'))) {
      throw new TypeError(
        `Curl option ${key} must be a file path (a non-empty string), got ${String(value)}`,
      );
    }
  }
}
