import { Observable, type OperatorFunction } from 'rxjs';
import { BodyBuffer } from '../api/BodyBuffer.js';
import { bufferedResponse, contentLength } from '../api/BufferedResponse.js';
import type { CurlResponse } from '../api/CurlResponse.js';
import type { ResponseHead, TransferEvent } from '../core/types.js';

/** Buffers a transfer into one CurlResponse, emitted when it is done. */
export function toResponse(): OperatorFunction<TransferEvent, CurlResponse> {
  return (source) =>
    new Observable<CurlResponse>((subscriber) => {
      const body = new BodyBuffer();
      let head: ResponseHead | undefined;
      return source.subscribe({
        next: (event) => {
          switch (event.type) {
            case 'response':
              head = event;
              body.expect(contentLength(event));
              break;
            case 'data':
              body.appendBytes(event.chunk);
              break;
            case 'done':
              subscriber.next(bufferedResponse(head, body.take(), event.result));
              break;
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
