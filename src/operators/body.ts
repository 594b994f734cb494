import { filter, map, type OperatorFunction, reduce } from 'rxjs';
import type { DataEvent, TransferEvent } from '../core/types.js';

/**
 * Collects a transfer's `data` events into one Buffer, emitted when the transfer completes.
 *
 * @example
 * ```ts
 * const png: Buffer = await lastValueFrom(curl.transfer('https://example.com/logo.png').pipe(ensureOk(), body()));
 * ```
 */
export function body(): OperatorFunction<TransferEvent, Buffer> {
  return (source) =>
    source.pipe(
      filter((event): event is DataEvent => event.type === 'data'),
      reduce((chunks: Buffer[], event) => {
        chunks.push(event.chunk);
        return chunks;
      }, []),
      map((chunks) => Buffer.concat(chunks)),
    );
}
