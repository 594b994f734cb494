import { createWriteStream, type WriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import type { PendingWork } from '../core/PendingWork.js';
import { pendingWorkOf, transferControl } from '../core/SubscriberHandler.js';
import type { TransferEvent } from '../core/types.js';

/** Files being flushed and kept, or removed, after an error or an unsubscribe. */
/**
 * Bytes buffered for the file before the transfer is paused. At the stream's default (16 KiB, one
 * libcurl chunk) nearly every chunk would pause and resume the transfer; at 1 MiB the stream writes
 * many chunks with one writev while memory stays bounded.
 */
const FILE_BUFFER_BYTES = 1024 * 1024;

/**
 * Options of `toFile()`: append to a partial file, keep the partial file on failure.
 *
 * @example
 * ```ts
 * const have = (await stat(path).catch(() => ({ size: 0 }))).size;
 * curl.transfer({ url, curlOptions: { RESUME_FROM_LARGE: have } })
 *   .pipe(toFile(path, { resumeFrom: have, keepPartial: true }));
 * ```
 */
export interface ToFileOptions {
  /** The file already holds this many bytes of the body: a 206 response is appended to it. */
  resumeFrom?: number;
  /** Keep what was written when the transfer fails, for a later resume. Default false: remove it. */
  keepPartial?: boolean;
}

/**
 * Writes a transfer's `data` to `path` and passes its other events on; `done` comes once the file
 * is flushed and closed. While the file stream's buffer is full the transfer is paused, so a fast
 * network and a slow disk never pile the body up in memory. On error or unsubscribe the file is
 * removed (a resumed file keeps what it had before).
 *
 * @example
 * ```ts
 * await lastValueFrom(curl.transfer('https://example.com/big.iso').pipe(ensureOk(), toFile('/tmp/big.iso')));
 * ```
 */
export function toFile(
  path: string,
  options: ToFileOptions = {},
): OperatorFunction<TransferEvent, TransferEvent> {
  return (source) =>
    new Observable<TransferEvent>((subscriber) => {
      let file: WriteStream | undefined;
      let appending = false;
      let settled = false;
      let subscription: Subscription | undefined;
      // The Curl whose close() must wait for this file to be closed or removed.
      let pendingWork: PendingWork | undefined;
      const settle = (done: Promise<void>) => pendingWork?.add(done);
      const open = (event: TransferEvent, status: number) => {
        pendingWork = pendingWorkOf(event);
        appending = options.resumeFrom !== undefined && options.resumeFrom > 0 && status === 206;
        file = createWriteStream(path, { flags: appending ? 'a' : 'w', highWaterMark: FILE_BUFFER_BYTES });
        file.on('error', (err) => discard(() => subscriber.error(err)));
      };
      // The file may still be opening: remove it once closed, or the open would create it again.
      const discard = (then: () => void) => {
        if (settled) return;
        settled = true;
        subscription?.unsubscribe();
        if (!file) {
          then();
          return;
        }
        const closed = whenClosed(file);
        if (appending || options.keepPartial) {
          // Keep every byte that arrived, in order, and report only once nothing more will be
          // written: a resume that starts at once must find the file's final size.
          file.end();
          settle(closed.then(then));
          return;
        }
        settle(closed.then(() => unlink(path)).then(then, then));
        file.destroy();
      };
      subscription = source.subscribe({
        next: (event) => {
          switch (event.type) {
            case 'response':
              open(event, event.status);
              subscriber.next(event);
              break;
            case 'data': {
              if (!file) open(event, 200);
              if (!file!.write(event.chunk)) {
                const control = transferControl(event);
                if (control) {
                  control.pause();
                  file!.once('drain', () => control.resume());
                }
              }
              break;
            }
            case 'done':
              if (!file) open(event, 200);
              file!.end(() => {
                if (settled) return;
                settled = true;
                subscriber.next(event);
                subscriber.complete();
              });
              break;
            default:
              subscriber.next(event);
          }
        },
        error: (err) => discard(() => subscriber.error(err)),
      });
      return () => discard(() => {});
    });
}

function whenClosed(file: WriteStream): Promise<void> {
  return file.closed ? Promise.resolve() : new Promise((resolve) => file.once('close', () => resolve()));
}
