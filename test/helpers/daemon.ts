// A server program from the system (vsftpd, sshd) run for one test: on a free loopback port, in the
// foreground, stopped when the test ends.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import type { ExecutionContext } from 'ava';
import { delay, freePort } from './servers.js';

/** The first of `paths` that exists, or undefined: tests of a server that is not installed are skipped. */
export function findProgram(...paths: string[]): string | undefined {
  return paths.find((path) => existsSync(path));
}

export interface Daemon {
  port: number;
  /** What the program wrote to standard error and standard output so far. */
  output(): string;
}

/** Resolves once something accepts a connection on `port`; rejects if `child` exits first. */
async function accepting(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`exited with ${child.exitCode ?? child.signalCode} before listening: ${output()}`);
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    await delay(10);
  }
}

/**
 * Runs `program` with the arguments `argsFor(port)` gives for a free port, until it accepts
 * connections there. Another process may take the port between the check and the bind: then the
 * program exits, and it is tried again on another port.
 */
export async function startDaemon(
  t: ExecutionContext,
  program: string,
  argsFor: (port: number) => string[],
): Promise<Daemon> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    // Its own process group, so the sessions it forks are stopped with it.
    const child = spawn(program, argsFor(port), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let text = '';
    const append = (chunk: Buffer) => {
      text += chunk.toString();
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (error) => {
        text += String(error);
        resolve();
      });
    });
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await exited;
    };
    try {
      await accepting(port, child, () => text);
      t.teardown(stop);
      return { port, output: () => text };
    } catch (error) {
      lastError = error;
      await stop();
    }
  }
  throw new Error(`${program} did not start: ${String(lastError)}`);
}
