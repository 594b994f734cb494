import { Observable, type OperatorFunction } from 'rxjs';
import type { CurlResponse } from '../api/CurlResponse.js';
import { hasSpentBody, markSpentBody } from '../core/spentBody.js';
import type { ResponseHead, TransferEvent, TransferResult } from '../core/types.js';

/** Buffers a transfer into one CurlResponse, emitted when it is done. */
export function toResponse(): OperatorFunction<TransferEvent, CurlResponse> {
  return (source) =>
    new Observable<CurlResponse>((subscriber) => {
      const chunks: Buffer[] = [];
      let head: ResponseHead | undefined;
      return source.subscribe({
        next: (event) => {
          switch (event.type) {
            case 'response':
              head = event;
              break;
            case 'data':
              chunks.push(event.chunk);
              break;
            case 'done':
              subscriber.next(buildResponse(head, chunks, event.result));
              break;
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

function buildResponse(
  head: ResponseHead | undefined,
  chunks: Buffer[],
  result: TransferResult,
): CurlResponse {
  // One chunk is a view of a shared slab (see copyChunk): copy a small one, so a response kept
  // for long does not keep the whole slab alive.
  const body =
    chunks.length !== 1
      ? Buffer.concat(chunks)
      : chunks[0].byteLength < chunks[0].buffer.byteLength / 2
        ? Buffer.from(chunks[0])
        : chunks[0];
  const response: CurlResponse = {
    status: head?.status ?? result.status,
    httpVersion: head?.httpVersion ?? result.httpVersion,
    headers: head?.headers ?? {},
    url: head?.url ?? result.effectiveUrl,
    body,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
    result,
  };
  if (hasSpentBody(head)) markSpentBody(response);
  return response;
}
