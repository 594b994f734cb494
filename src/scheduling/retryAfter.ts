import type { Headers } from '../core/types.js';
import { HttpError } from '../errors/HttpError.js';

/** How long a Retry-After header (seconds or an HTTP date) asks to wait, from `now`; undefined without one. */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const header = headers['retry-after'];
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The pause a 429 or 503 asks for with Retry-After: from an `HttpError`, or from a value with a
 * `status` and `headers` (a `CurlResponse`, a `response` event).
 */
export function throttledFor(value: unknown, now: number): number | undefined {
  if (value instanceof HttpError) return throttling(value.status, value.headers, now);
  if (typeof value !== 'object' || value === null) return undefined;
  const { status, headers } = value as { status?: unknown; headers?: unknown };
  if (typeof status !== 'number' || typeof headers !== 'object' || headers === null) return undefined;
  return throttling(status, headers as Headers, now);
}

function throttling(status: number, headers: Headers, now: number): number | undefined {
  return status === 429 || status === 503 ? retryAfterMs(headers, now) : undefined;
}
