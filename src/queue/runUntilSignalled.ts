import { constants } from 'node:os';

/**
 * Keeps a worker until the process is asked to stop: on SIGTERM or SIGINT it calls `close()` (stop
 * taking jobs, drain, requeue) and resolves once that is done, so the process can exit 0; a second
 * signal meanwhile exits at once, with 128 + the signal's number, as a shell reports it.
 *
 * @example
 * ```ts
 * await runUntilSignalled(runWorker({ redis: 'redis://127.0.0.1:6379', dir: '/data' }));
 * process.exit(0);
 * ```
 */
export function runUntilSignalled(
  worker: { close(): Promise<void> },
  signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let closing = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (closing) process.exit(128 + constants.signals[signal]);
      closing = true;
      worker.close().then(() => {
        for (const s of signals) process.off(s, onSignal);
        resolve();
      }, reject);
    };
    for (const s of signals) process.on(s, onSignal);
  });
}
