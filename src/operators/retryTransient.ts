import {
  asyncScheduler,
  type MonoTypeOperatorFunction,
  retry,
  type SchedulerLike,
  throwError,
  timer,
} from 'rxjs';
import { hasSpentBody } from '../core/spentBody.js';
import { CurlError } from '../errors/CurlError.js';
import { CURLE } from '../errors/curlCodes.js';
import { HttpError } from '../errors/HttpError.js';
import { retryAfterMs } from '../scheduling/retryAfter.js';

/**
 * Options of `retryTransient()`.
 *
 * @example
 * ```ts
 * const options: RetryTransientOptions = { count: 3, baseDelayMs: 200, maxDelayMs: 5_000 };
 * curl.request(url).pipe(ensureOk(), retryTransient(options));
 * ```
 */
export interface RetryTransientOptions {
  /** Retries after the first attempt. */
  count: number;
  /** The first delay; each retry doubles it. */
  baseDelayMs: number;
  /** No delay is longer, Retry-After included. */
  maxDelayMs: number;
  /** Where delays run; pass the TestScheduler in marble tests. Default asyncScheduler. */
  scheduler?: SchedulerLike;
}

// Connection failures and timeouts: the next attempt may well succeed.
const TRANSIENT_CURL_CODES = new Set<number>([
  CURLE.COULDNT_CONNECT,
  CURLE.HTTP2,
  CURLE.PARTIAL_FILE,
  CURLE.OPERATION_TIMEDOUT,
  CURLE.GOT_NOTHING,
  CURLE.SEND_ERROR,
  CURLE.RECV_ERROR,
  CURLE.HTTP2_STREAM,
]);
const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);

/**
 * Whether retrying `error` may help: a connection error, a timeout, or status 429, 502, 503, 504 —
 * unless the failed attempt had already read a streamed `Readable` body, which cannot be sent twice.
 *
 * @example
 * ```ts
 * curl.request(url).pipe(ensureOk(), catchError((err) => (isTransient(err) ? later(url) : throwError(() => err))));
 * ```
 */
export function isTransient(error: unknown): boolean {
  if (hasSpentBody(error)) return false;
  if (error instanceof HttpError) return TRANSIENT_STATUSES.has(error.status);
  if (error instanceof CurlError)
    return typeof error.code === 'number' && TRANSIENT_CURL_CODES.has(error.code);
  return false;
}

/**
 * Retries transient failures (see `isTransient`) with exponential backoff: baseDelayMs, then twice
 * that, and so on, capped at maxDelayMs. A Retry-After header (seconds or an HTTP date) replaces
 * the backoff for that retry, within the same cap. Other errors pass through at once, and so does
 * the error of an attempt that had started to send a `Readable` body (an Observable body is
 * subscribed again, so it is replayed).
 *
 * @example
 * ```ts
 * const res = await lastValueFrom(
 *   curl.request(url).pipe(ensureOk(), retryTransient({ count: 3, baseDelayMs: 200, maxDelayMs: 5_000 })),
 * );
 * ```
 */
export function retryTransient<T>(options: RetryTransientOptions): MonoTypeOperatorFunction<T> {
  const { count, baseDelayMs, maxDelayMs } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  return retry<T>({
    count,
    delay: (error, retryCount) => {
      if (!isTransient(error)) return throwError(() => error);
      const backoff = baseDelayMs * 2 ** (retryCount - 1);
      const wait =
        (error instanceof HttpError ? retryAfterMs(error.headers, scheduler.now()) : undefined) ?? backoff;
      return timer(Math.min(maxDelayMs, Math.max(0, wait)), scheduler);
    },
  });
}
