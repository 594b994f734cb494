import type { Headers, TransferResult } from '../core/types.js';

/**
 * A response with its body buffered, from `request()`.
 *
 * @example
 * ```ts
 * const res: CurlResponse = await lastValueFrom(curl.request('https://example.com/api'));
 * console.log(res.status, res.json<{ id: number }>().id, res.result.primaryIp);
 * ```
 */
export interface CurlResponse {
  /** The HTTP status. */
  status: number;
  /** '1.0', '1.1', '2' or '3'. */
  httpVersion: string;
  /** The response headers. */
  headers: Headers;
  /** The URL that answered, after redirects. */
  url: string;
  /** The whole body. */
  body: Buffer;
  /** The body decoded as UTF-8. */
  text(): string;
  /** The body parsed as JSON; throws on invalid JSON. */
  json<T = unknown>(): T;
  /** What libcurl reported. */
  result: TransferResult;
}
