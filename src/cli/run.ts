import { setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  catchError,
  EMPTY,
  filter,
  finalize,
  from,
  lastValueFrom,
  map,
  type Observable,
  of,
  takeUntil,
  tap,
} from 'rxjs';
import { Curl, CurlError, type CurlRequest, isTransient, TransferQueue } from '../index.js';
import type { CliOptions } from './args.js';
import { FileNamer } from './names.js';
import { describeFailure, type Outcome } from './outcome.js';
import { BarsDisplay, type Display, LineDisplay, QuietDisplay } from './progress.js';
import { Summary } from './summary.js';
import { UrlSource } from './urls.js';

/** Where the CLI reads and writes. */
export interface CliIo {
  stdin: Readable;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
}

/** Backoff of `--retry`: 250 ms, doubling, at most 5 s; a Retry-After pauses the host, at most 5 s. */
export const RETRY_BASE_DELAY_MS = 250;
export const RETRY_MAX_DELAY_MS = 5000;

/** One URL of the list, through its attempts. */
interface Job {
  url: string;
  /** Its file name in the output folder. */
  name: string;
  id: number;
  /** Attempts started. */
  attempts: number;
}

/**
 * Downloads every URL of `options` through a TransferQueue (`-j` at once, the per-host limits,
 * `--retry` at the queue so retries obey those limits and a Retry-After pauses the whole host),
 * reading the list only as the queue has room, and prints the summary.
 *
 * Cancelling (`cancel` aborted, on Ctrl-C) stops reading URLs and aborts every running transfer
 * through the request's `signal`: download() removes the partial file (or keeps it with `--resume`)
 * before it reports the abort. Once none runs, the queue is unsubscribed, which drops what waits
 * (not started, or between two attempts): those URLs are counted as cancelled, so when this
 * resolves nothing is left half-written.
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
  const source = new UrlSource(options.urls, options.inputFile, io.stdin);
  const queue = new TransferQueue<Job>({
    concurrency: options.jobs,
    perHost: {
      concurrency: options.maxPerHost,
      ratePerSecond: options.ratePerHost,
      minDelayMs: options.delayPerHostMs,
    },
    retry: { count: options.retry, baseDelayMs: RETRY_BASE_DELAY_MS, maxDelayMs: RETRY_MAX_DELAY_MS },
    maxPauseMs: RETRY_MAX_DELAY_MS,
  });
  // Every running transfer listens to the one signal.
  setMaxListeners(0, cancel);
  /** Jobs read and not finished, in list order: at most the queue's lookahead. */
  const unfinished = new Map<number, Job>();
  let running = 0;
  let whenIdle!: () => void;
  // After Ctrl-C, once no transfer runs: what still waits in the queue is dropped.
  const idleAfterCancel = new Promise<void>((resolve) => {
    whenIdle = resolve;
  });
  const checkIdle = () => {
    if (cancel.aborted && running === 0) whenIdle();
  };
  cancel.addEventListener('abort', checkIdle, { once: true });

  async function* jobs(): AsyncGenerator<Job> {
    let id = 0;
    for await (const url of source) {
      if (cancel.aborted) return;
      const job: Job = { url, name: namer.next(url), id: id++, attempts: 0 };
      unfinished.set(job.id, job);
      display.queued();
      yield job;
    }
  }

  const finished = (job: Job, outcome: Outcome): void => {
    unfinished.delete(job.id);
    display.finished(job.id, outcome);
  };

  // One attempt: an error the queue will retry is thrown to it, any other ends in an outcome.
  const attempt = (job: Job): Observable<Outcome> => {
    // Started by the queue after Ctrl-C: reported with the others that waited.
    if (cancel.aborted) return EMPTY;
    const { url, name, id } = job;
    if (job.attempts === 0) display.started(id, name);
    job.attempts++;
    running++;
    const request: CurlRequest = {
      url,
      progress: !options.quiet,
      resume: options.resume,
      signal: cancel,
      ...(options.http2 ? { httpVersion: '2' } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.protocols ? { protocols: options.protocols } : {}),
    };
    const { attempts } = job;
    return curl.download(request, join(options.outDir, name), { ifChanged: options.update }).pipe(
      tap((event) => {
        if (event.type === 'progress') display.progress(id, event.downloaded, event.total);
      }),
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
        // The queue's own rule: a transient error with retries left goes back on its host's queue.
        if (attempts <= options.retry && isTransient(error)) throw error;
        return of<Outcome>({ url, name, status: 'failed', bytes: 0, attempts, ...describeFailure(error) });
      }),
      tap((outcome) => finished(job, outcome)),
      finalize(() => {
        running--;
        checkIdle();
      }),
    );
  };

  try {
    await lastValueFrom(
      queue.scheduleFrom(jobs(), attempt).pipe(
        takeUntil(from(idleAfterCancel)),
        tap((outcome) => summary.add(outcome)),
      ),
      { defaultValue: undefined },
    );
    for (const job of unfinished.values()) {
      const { url, name, attempts } = job;
      const outcome: Outcome = { url, name, status: 'cancelled', bytes: 0, attempts };
      finished(job, outcome);
      summary.add(outcome);
    }
  } finally {
    cancel.removeEventListener('abort', checkIdle);
    source.close();
    display.stop();
    await curl.close();
  }
  const inputError = source.error;
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
