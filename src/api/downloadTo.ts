import { rename, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { catchError, defer, filter, from, map, mergeMap, type Observable, of, switchMap } from 'rxjs';
import type { TransferEvent } from '../core/types.js';
import { CurlError } from '../errors/CurlError.js';
import { CURLE } from '../errors/curlCodes.js';
import { HttpError } from '../errors/HttpError.js';
import { ensureOk } from '../operators/ensureOk.js';
import { toFile } from '../operators/toFile.js';
import type { CurlRequest } from './CurlRequest.js';
import type { DownloadEvent } from './DownloadEvent.js';

interface Transferring {
  transfer(request: CurlRequest | string): Observable<TransferEvent>;
}

/** The partial file of a download: beside its destination, so the final rename is atomic. */
export function partialPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.part`);
}

/**
 * download(): the body streams (with backpressure) into a partial file beside `path`, renamed over
 * `path` only once the transfer succeeded and the file is closed. A libcurl error or a status >= 400
 * fails it and removes the partial file first — unless `resume` is set: then the partial file stays,
 * and the next download continues it with a range request, or starts over when the server ignores
 * ranges.
 */
export function downloadTo(
  curl: Transferring,
  request: CurlRequest | string,
  path: string,
): Observable<DownloadEvent> {
  const req: CurlRequest = typeof request === 'string' ? { url: request } : request;
  const partial = partialPath(path);
  const resume = req.resume === true;
  const offset$ = resume
    ? from(
        stat(partial).then(
          (s) => s.size,
          () => 0,
        ),
      )
    : from([0]);
  return offset$.pipe(switchMap((offset) => fetchFrom(curl, req, path, partial, offset, resume)));
}

function fetchFrom(
  curl: Transferring,
  req: CurlRequest,
  path: string,
  partial: string,
  offset: number,
  resume: boolean,
): Observable<DownloadEvent> {
  const ranged: CurlRequest =
    offset > 0 ? { ...req, curlOptions: { ...req.curlOptions, RESUME_FROM_LARGE: offset } } : req;
  let bytes = 0;
  let appended = false;
  return curl.transfer(ranged).pipe(
    ensureOk(),
    map((event) => {
      if (event.type === 'response') {
        // A server that ignores ranges and answers 200 with a Content-Length equal to the bytes we
        // have: libcurl ends the transfer OK without reading the body ("the entire document is
        // already downloaded"), so the partial file is complete. toFile must append (nothing) to
        // it as after a 206, not open it for writing, which would truncate it to an empty file.
        const complete =
          offset > 0 && event.status === 200 && event.headers['content-length'] === String(offset);
        appended = offset > 0 && (event.status === 206 || complete);
        if (complete) return { ...event, status: 206 };
      }
      if (event.type === 'data') bytes += event.chunk.length;
      return event;
    }),
    toFile(partial, { resumeFrom: offset, keepPartial: resume }),
    filter((event) => event.type === 'progress' || event.type === 'done'),
    mergeMap((event): Observable<DownloadEvent> => {
      const base = appended ? offset : 0;
      if (event.type === 'progress') {
        return of<DownloadEvent>({
          type: 'progress',
          downloaded: base + event.downloaded,
          total: base + event.downloadTotal,
        });
      }
      const result = (event as Extract<TransferEvent, { type: 'done' }>).result;
      return defer(() => rename(partial, path)).pipe(
        map((): DownloadEvent => ({ type: 'done', path, bytes: base + bytes, result })),
      );
    }),
    catchError((err) => {
      // The server does not do ranges for this file, or not this range: start over.
      const refused =
        (err instanceof CurlError && err.code === CURLE.RANGE_ERROR) ||
        (err instanceof HttpError && err.status === 416);
      if (offset > 0 && refused) {
        return fetchFrom(curl, req, path, partial, 0, resume);
      }
      throw err;
    }),
  );
}
