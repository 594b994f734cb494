import { defer, type ObservableInput, type OperatorFunction } from 'rxjs';
import { TransferQueue } from './TransferQueue.js';
import type { TransferQueueOptions } from './TransferQueueOptions.js';

/**
 * `new TransferQueue(options).schedule(project)`, with a queue of its own for each subscription;
 * options that are not valid error the output.
 *
 * @example
 * ```ts
 * urls$.pipe(schedule({ perHost: { concurrency: 2 } }, (url: string) => curl.request(url)));
 * ```
 */
export function schedule<T, R>(
  options: TransferQueueOptions<T>,
  project: (item: T, index: number) => ObservableInput<R>,
): OperatorFunction<T, R> {
  return (source) => defer(() => source.pipe(new TransferQueue<T>(options).schedule(project)));
}
