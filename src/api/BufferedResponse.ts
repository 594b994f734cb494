import { hasSpentBody, markSpentBody } from '../core/spentBody.js';
import type { Headers, ResponseHead, TransferResult } from '../core/types.js';
import type { CurlResponse } from './CurlResponse.js';

/** A CurlResponse: the head, the body and libcurl's result; text() and json() read the body. */
class BufferedResponse implements CurlResponse {
  constructor(
    readonly status: number,
    readonly httpVersion: string,
    readonly headers: Headers,
    readonly url: string,
    readonly body: Buffer,
    readonly result: TransferResult,
  ) {}

  text(): string {
    return this.body.toString('utf8');
  }

  json<T = unknown>(): T {
    return JSON.parse(this.body.toString('utf8')) as T;
  }
}

/**
 * The response of a finished transfer from its head (undefined when there was none) and its body.
 * `spent`: the request's one-shot body was read, so retrying it cannot help.
 */
export function bufferedResponse(
  head: ResponseHead | undefined,
  body: Buffer,
  result: TransferResult,
  spent = hasSpentBody(head),
): CurlResponse {
  const response = new BufferedResponse(
    head?.status ?? result.status,
    head?.httpVersion ?? result.httpVersion,
    head?.headers ?? {},
    head?.url ?? result.effectiveUrl,
    body,
    result,
  );
  if (spent) markSpentBody(response);
  return response;
}

/** The Content-Length of a head, for sizing a body buffer; NaN when absent. */
export function contentLength(head: ResponseHead): number {
  const value = head.headers['content-length'];
  return typeof value === 'string' ? Number(value) : Number.NaN;
}
