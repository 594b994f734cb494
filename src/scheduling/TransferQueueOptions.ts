import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { CurlError } from '../errors/CurlError.js';
import { originKey } from './originKey.js';

/**
 * Limits that hold for each key (by default each origin) of a `TransferQueue`.
 *
 * @example
 * ```ts
 * const perHost: PerKeyLimits = { concurrency: 2, ratePerSecond: 5, burst: 5, minDelayMs: 100 };
 * ```
 */
export interface PerKeyLimits {
  /** Items of one key running at once; default only the global limit. */
  concurrency?: number;
  /** Starts per second, as a token bucket; default unlimited. */
  ratePerSecond?: number;
  /** The token bucket's size: starts allowed at once after a quiet spell; default 1. */
  burst?: number;
  /** At least this long between two starts of one key; default 0. */
  minDelayMs?: number;
}

/**
 * Retries at the queue: a transient failure (`isTransient`) goes back on its key's queue after a
 * backoff of `baseDelayMs`, doubling each time, at most `maxDelayMs`.
 *
 * @example
 * ```ts
 * const retry: QueueRetryOptions = { count: 3, baseDelayMs: 500, maxDelayMs: 10_000 };
 * urls$.pipe(schedule({ retry }, (url: string) => curl.request(url).pipe(ensureOk())));
 * ```
 */
export interface QueueRetryOptions {
  /** Retries after the first attempt. */
  count: number;
  /** The first backoff; default 1,000 ms. */
  baseDelayMs?: number;
  /** No backoff is longer; default 30,000 ms. */
  maxDelayMs?: number;
}

/**
 * Options of `new TransferQueue()`.
 *
 * @example
 * ```ts
 * const queue = new TransferQueue({
 *   concurrency: 64,
 *   perHost: { concurrency: 4, ratePerSecond: 2, burst: 4 },
 *   retry: { count: 3 },
 * } satisfies TransferQueueOptions<string>);
 * ```
 */
export interface TransferQueueOptions<T = unknown> {
  /** Items running at once, all keys together; default 64. */
  concurrency?: number;
  /** The key whose limits an item obeys; default its origin (scheme://host:port) of the item, `item.url` or `item.request.url`. */
  key?: (item: T) => string;
  /** Limits per key. */
  perHost?: PerKeyLimits;
  /** Larger starts first; ties in arrival order; default 0 for every item. */
  priority?: (item: T) => number;
  /** Retries of transient failures at the queue; default none. */
  retry?: QueueRetryOptions;
  /** A 429 or 503 with Retry-After pauses its whole key until then; default true. */
  retryAfter?: boolean;
  /** The longest pause a Retry-After can impose; default 600,000 ms (ten minutes). */
  maxPauseMs?: number;
  /** The clock of rates, delays, backoffs and pauses; the TestScheduler in marble tests. Default asyncScheduler. */
  scheduler?: SchedulerLike;
  /** `scheduleFrom`: items read ahead of what has finished; default 10,000. */
  lookahead?: number;
}

/** The options of a queue, checked and with their defaults. */
export interface QueuePolicy<T> {
  concurrency: number;
  keyOf: (item: T) => string;
  priorityOf: ((item: T) => number) | undefined;
  perKey: LaneLimits;
  retryCount: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  retryAfter: boolean;
  maxPauseMs: number;
  scheduler: SchedulerLike;
  lookahead: number;
}

/** Per-key limits in the form a lane computes with: a generic cell rate algorithm for the bucket. */
export interface LaneLimits {
  concurrency: number;
  /** Milliseconds per token; 0 without a rate. */
  interval: number;
  /** How far ahead of its schedule a key may start: (burst - 1) intervals. */
  tolerance: number;
  minDelayMs: number;
}

export function queuePolicy<T>(options: TransferQueueOptions<T>): QueuePolicy<T> {
  const perHost = options.perHost ?? {};
  const rate = perHost.ratePerSecond;
  if (rate !== undefined)
    check('perHost.ratePerSecond', rate, Number.isFinite(rate) && rate > 0, 'a number > 0');
  const interval = rate === undefined ? 0 : 1000 / rate;
  const burst = integer('perHost.burst', perHost.burst, 1, 1);
  const minDelayMs = perHost.minDelayMs ?? 0;
  check('perHost.minDelayMs', minDelayMs, Number.isFinite(minDelayMs) && minDelayMs >= 0, 'a number >= 0');
  const retry = options.retry;
  const retryBaseDelayMs = retry?.baseDelayMs ?? 1000;
  const retryMaxDelayMs = retry?.maxDelayMs ?? 30_000;
  check(
    'retry.baseDelayMs',
    retryBaseDelayMs,
    Number.isFinite(retryBaseDelayMs) && retryBaseDelayMs >= 0,
    'a number >= 0',
  );
  check(
    'retry.maxDelayMs',
    retryMaxDelayMs,
    Number.isFinite(retryMaxDelayMs) && retryMaxDelayMs >= 0,
    'a number >= 0',
  );
  const maxPauseMs = options.maxPauseMs ?? 600_000;
  check('maxPauseMs', maxPauseMs, Number.isFinite(maxPauseMs) && maxPauseMs >= 0, 'a number >= 0');
  for (const name of ['key', 'priority'] as const) {
    const fn = options[name];
    if (fn !== undefined) check(name, fn, typeof fn === 'function', 'a function');
  }
  return {
    concurrency: integer('concurrency', options.concurrency, 64, 1),
    keyOf: options.key ?? (originKey as (item: T) => string),
    priorityOf: options.priority,
    perKey: {
      concurrency: integer('perHost.concurrency', perHost.concurrency, Number.POSITIVE_INFINITY, 1),
      interval,
      tolerance: (burst - 1) * interval,
      minDelayMs,
    },
    retryCount: retry === undefined ? 0 : integer('retry.count', retry.count, 0, 0),
    retryBaseDelayMs,
    retryMaxDelayMs,
    retryAfter: options.retryAfter ?? true,
    maxPauseMs,
    scheduler: options.scheduler ?? asyncScheduler,
    lookahead: integer('lookahead', options.lookahead, 10_000, 1),
  };
}

function integer(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  check(name, value, Number.isInteger(value) && value >= min, `an integer >= ${min}`);
  return value;
}

function check(name: string, value: unknown, ok: boolean, wanted: string): void {
  if (!ok) {
    const shown = typeof value === 'function' ? 'a function' : (JSON.stringify(value) ?? String(value));
    throw new CurlError('INVALID_INPUT', `TransferQueue: ${name} must be ${wanted}, got ${shown}`, '');
  }
}
