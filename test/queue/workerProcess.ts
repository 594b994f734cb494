// Worker processes for the queue tests: test/queue/fixtures/worker.ts, killed when the test ends.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';

const FIXTURE = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves with the exit code, or the signal's name. */
  exited: Promise<number | string>;
  /** What it wrote to standard error. */
  stderr(): string;
}

export function startWorkerProcess(t: ExecutionContext, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import=tsx', FIXTURE], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited.then(() => undefined);
  });
  return { child, exited, stderr: () => text };
}
