import type { SchedulerLike } from 'rxjs';
import type { CurlRequest } from './CurlRequest.js';

/**
 * Options of `new Curl()`: connection limits, the libcurl to load, the scheduler, request defaults, cookies.
 *
 * @example
 * ```ts
 * const curl = new Curl({
 *   maxHostConnections: 6,
 *   defaults: { timeoutMs: 30_000, userAgent: 'my-app/1.0' },
 *   cookies: true,
 * });
 * ```
 */
export interface CurlOptions {
  /** CURLMOPT_MAX_TOTAL_CONNECTIONS; 0 = unlimited, the default. */
  maxTotalConnections?: number;
  /** CURLMOPT_MAX_HOST_CONNECTIONS; 0 = unlimited, the default. */
  maxHostConnections?: number;
  /** CURLMOPT_MAX_CONCURRENT_STREAMS (HTTP/2). */
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
