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
  /**
   * HSTS cache file (CURLOPT_HSTS): read when the Curl starts, shared by all its transfers, written
   * at close(). An http:// URL to a host in it goes over https. libcurl >= 7.88.
   */
  hsts?: string;
  /**
   * alt-svc cache file (CURLOPT_ALTSVC, h1/h2/h3 as libcurl supports them): read by each easy handle
   * as it is created, written back at close(). Alt-Svc headers are only taken from https responses.
   */
  altSvc?: string;
}
