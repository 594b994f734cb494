import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { PerKeyLimits } from '../../index.js';
import { type QueueConnection, type QueueResult, runUntilSignalled, runWorker } from '../../queue/index.js';
import { integer, positive } from '../args.js';
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  connectionOf,
  type QueueCommand,
  usageErrors,
} from './QueueCommand.js';

interface WorkerArgs {
  help: boolean;
  conn: QueueConnection;
  jobs: number;
  outDir: string;
  perHost: PerKeyLimits;
  drainTimeoutMs: number;
  quiet: boolean;
}

/** The one line printed when a job is finished: as the plain CLI's, its file relative to `-o`. */
export function resultLine(result: QueueResult, dir: string): string {
  const retried = result.attempts > 1 ? `, attempt ${result.attempts}` : '';
  if (result.ok)
    return `ok ${relative(dir, result.path ?? '')} (${result.bytes} bytes${retried}) ${result.url}`;
  const reason = result.status > 0 ? `HTTP ${result.status}` : result.error;
  return `failed ${reason}${retried ? ` (${retried.slice(2)})` : ''} ${result.url}`;
}

/**
 * `rxcurl worker`: `runWorker()` until SIGTERM or SIGINT (then it stops taking jobs, drains,
 * requeues what is left and exits 0; a second signal exits at once), one line per finished job.
 */
export const workerCommand: QueueCommand<WorkerArgs> = {
  usage: `Usage: rxcurl worker --redis URL [--queue NAME] [-j N] [-o DIR] [per-host options]

Downloads the queue's jobs until SIGTERM or SIGINT, into DIR/<2 hex>/<sha256 of the URL>; each
job's result record (rxcurl results) is written before the job completes. Start as many workers,
on as many machines, as you like: each URL still ends with one file and one record.

Options:
${CONNECTION_USAGE}
  -j, --jobs N          jobs at once in this worker (default 8); it takes no more than these
  -o, --output DIR      folder for the files (default .), created if missing
      --max-per-host N  transfers at once to one host, across every worker of the queue
      --rate-per-host N starts per second on one host, across every worker (a number > 0)
      --delay-per-host MS
                        at least MS milliseconds between two starts on one host, across every worker
      --drain-timeout SECONDS
                        on SIGTERM, how long running jobs may finish before they go back to the
                        queue (default 30)
  -q, --quiet           print only failures (on standard error)
  -h, --help            show this help

404, 410 and other 4xx (but 408 and 429) and invalid URLs fail at once; other failures are
retried with backoff up to the attempts given at enqueue (5). A second signal exits at once.`,

  parse(argv) {
    const { values } = usageErrors(() =>
      parseArgs({
        args: [...argv],
        strict: true,
        options: {
          ...CONNECTION_OPTIONS,
          jobs: { type: 'string', short: 'j' },
          output: { type: 'string', short: 'o' },
          'max-per-host': { type: 'string' },
          'rate-per-host': { type: 'string' },
          'delay-per-host': { type: 'string' },
          'drain-timeout': { type: 'string' },
          quiet: { type: 'boolean', short: 'q' },
        },
      }),
    );
    const drainSeconds = positive('--drain-timeout', values['drain-timeout'], 'a number of seconds') ?? 30;
    const args: WorkerArgs = {
      help: values.help ?? false,
      conn: { redis: '' },
      jobs: integer('-j', values.jobs, 8, 1),
      outDir: values.output ?? '.',
      perHost: {
        concurrency: integer('--max-per-host', values['max-per-host'], undefined, 1),
        ratePerSecond: positive('--rate-per-host', values['rate-per-host'], 'a number of starts per second'),
        minDelayMs: integer('--delay-per-host', values['delay-per-host'], undefined, 0),
      },
      drainTimeoutMs: Math.round(drainSeconds * 1000),
      quiet: values.quiet ?? false,
    };
    if (!args.help) args.conn = connectionOf(values);
    return args;
  },

  async run(args, io) {
    const worker = runWorker({
      ...args.conn,
      dir: args.outDir,
      concurrency: args.jobs,
      perHost: args.perHost,
      drainTimeoutMs: args.drainTimeoutMs,
    });
    worker.results$.subscribe((result) => {
      if (!args.quiet) io.stdout.write(`${resultLine(result, args.outDir)}\n`);
      else if (!result.ok) io.stderr.write(`${resultLine(result, args.outDir)}\n`);
    });
    // BullMQ recovers from these itself (a lost connection, a lock it could not renew): say so, go on.
    worker.errors$.subscribe((error) => io.stderr.write(`rxcurl worker: ${error.message}\n`));
    await runUntilSignalled(worker);
    return 0;
  },
};
