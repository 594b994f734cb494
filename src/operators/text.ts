import { map, type OperatorFunction } from 'rxjs';
import type { TransferEvent } from '../core/types.js';
import { body } from './body.js';

/**
 * A transfer's body decoded as UTF-8.
 *
 * @example
 * ```ts
 * const html = await lastValueFrom(curl.transfer('https://example.com/').pipe(text()));
 * ```
 */
export function text(): OperatorFunction<TransferEvent, string> {
  return (source) =>
    source.pipe(
      body(),
      map((bytes) => bytes.toString('utf8')),
    );
}
