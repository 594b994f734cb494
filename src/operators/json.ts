import { map, type OperatorFunction } from 'rxjs';
import type { TransferEvent } from '../core/types.js';
import { text } from './text.js';

/**
 * A transfer's body parsed as JSON; a parse error is an error on the Observable.
 *
 * @example
 * ```ts
 * const item = await lastValueFrom(curl.transfer(`${api}/items/1`).pipe(ensureOk(), json<{ id: number }>()));
 * ```
 */
export function json<T = unknown>(): OperatorFunction<TransferEvent, T> {
  return (source) =>
    source.pipe(
      text(),
      map((value) => JSON.parse(value) as T),
    );
}
