import { setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  catchError,
  defaultIfEmpty,
  defer,
  EMPTY,
  filter,
  finalize,
  fromEvent,
  lastValueFrom,
  map,
  mergeMap,
  type Observable,
  of,
  takeUntil,
  tap,
} from 'rxjs';
import { Curl, CurlError, type CurlRequest, retryTransient } from '../index.js';
import type { CliOptions } from './args.js';
import { FileNamer } from './names.js';
import { describeFailure, type Outcome } from './outcome.js';
import { BarsDisplay, type Display, LineDisplay, QuietDisplay } from './progress.js';
import { Summary } from './summary.js';
import { urlSource } from './urls.js';

/** Where the CLI reads and writes. */
export interface CliIo {
  stdin: Readable;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
}

/** Backoff of `--retry`: 250 ms, doubling, at most 5 s (a Retry-After header counts, within 5 s). */
export const RETRY_BASE_DELAY_MS = 250;
export const RETRY_MAX_DELAY_MS = 5000;

/**
 * Downloads every URL of `options`, `options.jobs` at a time, and prints the summary.
 *
 * Cancelling (`cancel` aborted, on Ctrl-C) stops reading URLs and aborts every running transfer
 * through the request's `signal`: download() removes the partial file (or keeps it with `--resume`)
 * before it reports the abort, so when this resolves nothing is left half-written. A transfer
 * waiting for its next retry is dropped at once; URLs not started yet are counted as cancelled.
 *
 * Resolves to the exit status: 0 when every transfer succeeded, 1 when any failed, 130 when cancelled
 * (main() turns that into 143 after SIGTERM).
 */
export async function run(options: CliOptions, io: CliIo, cancel: AbortSignal): Promise<number> {
  const began = performance.now();
  await mkdir(options.outDir, { recursive: true });
  const curl = new Curl();
  const display: Display = options.quiet
    ? new QuietDisplay(io.stderr)
    : io.stdout.isTTY
      ? new BarsDisplay(io.stdout as NodeJS.WritableStream)
      : new LineDisplay(io.stdout);
  const summary = new Summary();
  const namer = new FileNamer();
  // Every transfer waiting between retries listens to the one signal (takeUntil below).
  setMaxListeners(0, cancel);
  const cancelled$ = fromEvent(cancel, 'abort');
  let nextId = 0;

  const fetchOne = (url: string, name: string, id: number): Observable<Outcome> => {
    if (cancel.aborted) {
      // Queued before Ctrl-C: never started.
      const outcome: Outcome = { url, name, status: 'cancelled', bytes: 0, attempts: 0 };
      display.finished(id, outcome);
      return of(outcome);
    }
    const request: CurlRequest = {
      url,
      progress: !options.quiet,
      resume: options.resume,
      signal: cancel,
      ...(options.http2 ? { httpVersion: '2' } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    };
    let attempts = 0;
    let attempting = false;
    display.started(id, name);
    const attempt$ = defer(() => {
      attempts++;
      attempting = true;
      return curl.download(request, join(options.outDir, name), { ifChanged: options.update });
    }).pipe(
      finalize(() => {
        attempting = false;
      }),
    );
    return attempt$.pipe(
      tap((event) => {
        if (event.type === 'progress') display.progress(id, event.downloaded, event.total);
      }),
      retryTransient({
        count: options.retry,
        baseDelayMs: RETRY_BASE_DELAY_MS,
        maxDelayMs: RETRY_MAX_DELAY_MS,
      }),
      // A running attempt ends by its signal; only a wait between attempts is cut short here.
      takeUntil(cancelled$.pipe(filter(() => !attempting))),
      filter((event) => event.type === 'done'),
      map(
        (done): Outcome => ({
          url,
          name,
          status: 'ok',
          bytes: done.bytes,
          totalMs: done.result.timings.totalMs,
          attempts,
          ...(done.notModified && { notModified: true }),
        }),
      ),
      catchError((error: unknown) => {
        if (error instanceof CurlError && error.code === 'ABORTED' && cancel.aborted) {
          return of<Outcome>({ url, name, status: 'cancelled', bytes: 0, attempts });
        }
        return of<Outcome>({ url, name, status: 'failed', bytes: 0, attempts, ...describeFailure(error) });
      }),
      defaultIfEmpty<Outcome, Outcome>({ url, name, status: 'cancelled', bytes: 0, attempts }),
      tap((outcome) => display.finished(id, outcome)),
    );
  };

  let inputError: unknown;
  try {
    await lastValueFrom(
      urlSource(options.urls, options.inputFile, io.stdin).pipe(
        catchError((error: unknown) => {
          inputError = error;
          return EMPTY;
        }),
        takeUntil(cancelled$),
        map((url) => {
          display.queued();
          return { url, name: namer.next(url), id: nextId++ };
        }),
        mergeMap(({ url, name, id }) => fetchOne(url, name, id), options.jobs),
        tap((outcome) => summary.add(outcome)),
      ),
      { defaultValue: undefined },
    );
  } finally {
    display.stop();
    await curl.close();
  }
  if (!options.quiet && (inputError === undefined || summary.count() > 0)) {
    io.stdout.write(`${summary.render(performance.now() - began)}\n`);
  }
  if (inputError !== undefined) {
    io.stderr.write(`rxcurl: cannot read URLs: ${(inputError as Error).message ?? String(inputError)}\n`);
    return 2;
  }
  if (cancel.aborted) return 130;
  return summary.count('failed') > 0 ? 1 : 0;
}
