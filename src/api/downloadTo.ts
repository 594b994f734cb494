import { rename, stat, truncate, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { catchError, from, Observable, switchMap } from 'rxjs';
import type { FileSink } from '../core/NormalizedRequest.js';
import type { PendingWork } from '../core/PendingWork.js';
import type { TransferEvent } from '../core/types.js';
import { CurlError } from '../errors/CurlError.js';
import { CURLE } from '../errors/curlCodes.js';
import { HttpError } from '../errors/HttpError.js';
import type { CurlRequest } from './CurlRequest.js';
import type { DownloadEvent } from './DownloadEvent.js';
import type { DownloadOptions } from './DownloadOptions.js';

/** What download() needs of its Curl: transfers whose body libcurl writes to a file, and close()'s wait list. */
export interface FileTransfers {
  transfer(request: CurlRequest | string, sink: FileSink): Observable<TransferEvent>;
  readonly pendingWork: PendingWork;
}

/** libcurl's codes for a resume the server cannot do: no ranges, no FTP REST, an offset past the end. */
const RESUME_REFUSED = new Set<unknown>([
  CURLE.RANGE_ERROR,
  CURLE.FTP_COULDNT_USE_REST,
  CURLE.BAD_DOWNLOAD_RESUME,
]);

/** The partial file of a download: beside its destination, so the final rename is atomic. */
export function partialPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.part`);
}

/**
 * download(): libcurl writes the body itself into a partial file beside `path` (no JavaScript per
 * chunk, as curl's command line does), renamed over `path` only once the transfer succeeded and the
 * file is closed, with the server's file time as its mtime (`curl -R`). A libcurl error or a status
 * >= 400 fails it and removes the partial file first — unless `resume` is set: then the partial file
 * keeps what arrived, and the next download continues it with a range request, or starts over when
 * the server ignores ranges. `ifChanged` makes the request conditional on the mtime of the file at
 * `path` (never on the partial file, which `resume` continues either way); when the server says it
 * is current, the partial file is removed and `path` left as it was.
 */
export function downloadTo(
  files: FileTransfers,
  request: CurlRequest | string,
  path: string,
  options?: DownloadOptions,
): Observable<DownloadEvent> {
  const req: CurlRequest = typeof request === 'string' ? { url: request } : request;
  const partial = partialPath(path);
  const resume = req.resume === true;
  const statOf = (file: string) => stat(file).catch(() => undefined);
  const start$ = from(
    Promise.all([
      resume ? statOf(partial) : undefined,
      options?.ifChanged === true ? statOf(path) : undefined,
    ]),
  );
  return start$.pipe(
    switchMap(([part, existing]) =>
      fetchFrom(files, req, path, partial, part?.size ?? 0, resume, existing?.mtimeMs),
    ),
  );
}

function fetchFrom(
  files: FileTransfers,
  req: CurlRequest,
  path: string,
  partial: string,
  offset: number,
  resume: boolean,
  /** The mtime of the file at `path` in ms, for `ifChanged`; undefined for an unconditional download. */
  since: number | undefined,
): Observable<DownloadEvent> {
  const ranged: CurlRequest = {
    ...req,
    curlOptions: {
      FILETIME: 1, // the server's file time, for the file's mtime
      ...req.curlOptions,
      ...(offset > 0 && { RESUME_FROM_LARGE: offset }),
      // CURL_TIMECOND_IFMODSINCE: libcurl sends If-Modified-Since, and for a 200 whose Last-Modified
      // is not newer (a server that ignores the header) it drops the body and says so too.
      ...(since !== undefined && { TIMECONDITION: 1, TIMEVALUE_LARGE: Math.floor(since / 1000) }),
    },
  };
  const download = new Observable<DownloadEvent>((subscriber) => {
    // The bytes already on disk count once the server answers the range (206): progress and size.
    let base = 0;
    let settled = false;
    // A failed or cancelled download's file, removed or cut back; close() waits for it.
    const discard = (error: unknown): Promise<void> => {
      let cleanUp: Promise<void>;
      if (resume && !(error instanceof HttpError))
        cleanUp = Promise.resolve(); // keep what arrived
      else if (offset > 0)
        cleanUp = truncate(partial, offset); // drop the error body appended to it
      else cleanUp = unlink(partial);
      const quiet = cleanUp.catch(() => undefined);
      files.pendingWork.add(quiet);
      return quiet;
    };
    // An error status ends the transfer at its response, which may come before subscribe() returns.
    const stop = () => queueMicrotask(() => subscription.unsubscribe());
    const subscription = files.transfer(ranged, { path: partial, append: offset > 0 }).subscribe({
      next: (event) => {
        if (settled) return;
        switch (event.type) {
          case 'response': {
            // FTP's replies are not HTTP statuses (FTP fails with a libcurl error, as 78 for a 550).
            const http = event.httpVersion !== '';
            if (http && event.status >= 400) {
              settled = true;
              stop();
              const error = new HttpError(event.status, event.headers, event.url);
              void discard(error).then(() => subscriber.error(error));
              return;
            }
            // libcurl resumes FTP and SFTP itself, or fails (31, 36).
            base = offset > 0 && (event.status === 206 || !http) ? offset : 0;
            break;
          }
          case 'progress':
            subscriber.next({
              type: 'progress',
              downloaded: base + event.downloaded,
              total: base + event.downloadTotal,
            });
            break;
          case 'done': {
            settled = true;
            const { result } = event;
            if (since !== undefined && (result.conditionUnmet === true || result.status === 304)) {
              // The file at `path` is current: nothing replaces it, and the empty partial file goes.
              unlink(partial)
                .then(() => {
                  subscriber.next({ type: 'done', path, bytes: 0, result, notModified: true });
                  subscriber.complete();
                })
                .catch((err: unknown) => subscriber.error(err));
              break;
            }
            // The file is closed: its size is every byte of the body, the resumed part included.
            stat(partial)
              .then(async ({ size }) => {
                // Stamped before the rename, so the file never shows under its name with another mtime.
                const { fileTime } = result;
                if (fileTime !== undefined) await utimes(partial, fileTime / 1000, fileTime / 1000);
                await rename(partial, path);
                subscriber.next({ type: 'done', path, bytes: size, result });
                subscriber.complete();
              })
              .catch((err: unknown) => subscriber.error(err));
            break;
          }
        }
      },
      error: (err: unknown) => {
        settled = true;
        void discard(err).then(() => subscriber.error(err));
      },
    });
    return () => {
      subscription.unsubscribe();
      if (!settled) void discard(CurlError.aborted(req.url, 'download unsubscribed'));
    };
  });
  return download.pipe(
    catchError((err) => {
      // The server does not do ranges for this file, or not this range: start over.
      const refused =
        (err instanceof CurlError && RESUME_REFUSED.has(err.code)) ||
        (err instanceof HttpError && err.status === 416);
      if (offset > 0 && refused) return fetchFrom(files, req, path, partial, 0, resume, since);
      throw err;
    }),
  );
}
