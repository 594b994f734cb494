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
 * The response of a finished transfer from its head (undefined when there was none) and its body
 * chunks. `spent`: the request's one-shot body was read, so retrying it cannot help.
 */
export function bufferedResponse(
  head: ResponseHead | undefined,
  chunks: Buffer[],
  result: TransferResult,
  spent = hasSpentBody(head),
): CurlResponse {
  const response = new BufferedResponse(
    head?.status ?? result.status,
    head?.httpVersion ?? result.httpVersion,
    head?.headers ?? {},
    head?.url ?? result.effectiveUrl,
    joinChunks(chunks),
    result,
  );
  if (spent) markSpentBody(response);
  return response;
}

function joinChunks(chunks: Buffer[]): Buffer {
  if (chunks.length === 0) return Buffer.alloc(0);
  if (chunks.length > 1) return Buffer.concat(chunks);
  // One chunk is a view of a shared slab (see copyChunk): copy a small one, so a response kept
  // for long does not keep the whole slab alive.
  const [chunk] = chunks as [Buffer];
  return chunk.byteLength < chunk.buffer.byteLength / 2 ? Buffer.from(chunk) : chunk;
}
