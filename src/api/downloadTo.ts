import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Observable, type Subscription } from 'rxjs';
import type { CurlRequest, DownloadEvent, TransferEvent } from '../core/types.js';
import { HttpError } from '../errors/HttpError.js';

interface Transferring {
  transfer(request: CurlRequest | string): Observable<TransferEvent>;
}

/**
 * download(): the body goes to a temporary file beside `path` (same folder, so the final rename
 * is atomic) and is renamed over `path` only after the transfer succeeded and the file is flushed.
 * On any failure, or on unsubscribe, the temporary file is removed before the error is delivered.
 */
export function downloadTo(
  curl: Transferring,
  request: CurlRequest | string,
  path: string,
): Observable<DownloadEvent> {
  return new Observable<DownloadEvent>((subscriber) => {
    const partial = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.part`);
    const file = createWriteStream(partial);
    let bytes = 0;
    let total = 0;
    let failed = false;
    let finishing = false;
    // The file may still be opening: unlink only once it is closed, or the open would recreate it.
    const discard = (then: () => void) => {
      file.once('close', () => unlink(partial).then(then, then));
      file.destroy();
    };
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      transfer?.unsubscribe();
      discard(() => subscriber.error(err));
    };
    file.on('error', fail);
    let transfer: Subscription | undefined;

    transfer = curl.transfer(request).subscribe({
      next: (event) => {
        switch (event.type) {
          case 'response':
            total = Number(event.headers['content-length'] ?? 0) || 0;
            if (event.status >= 400) fail(new HttpError(event.status, event.headers, event.url));
            break;
          case 'data':
            bytes += event.chunk.length;
            file.write(event.chunk);
            break;
          case 'progress':
            subscriber.next({
              type: 'progress',
              downloaded: event.downloaded,
              total: event.downloadTotal || total,
            });
            break;
          case 'done':
            finishing = true;
            file.end(() =>
              rename(partial, path).then(() => {
                subscriber.next({ type: 'done', path, bytes, result: event.result });
                subscriber.complete();
              }, fail),
            );
            break;
        }
      },
      error: fail,
    });

    return () => {
      transfer?.unsubscribe();
      if (failed || finishing) return;
      failed = true;
      discard(() => {});
    };
  });
}
