// Running the built CLI (dist/cli/main.js) as a child process, with or without a terminal.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist/cli/main.js');

export interface CliRun {
  /** The exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  /** Everything written to standard output so far. */
  stdout(): string;
  done: Promise<CliRun>;
}

/** Starts `command args` and collects its output; `input` is written to its stdin (else stdin is /dev/null). */
export function start(command: string, args: string[], input?: string): Running {
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  if (input !== undefined) child.stdin!.end(input);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, stdout: () => stdout, done };
}

/** `node dist/cli/main.js args…`, without a terminal. */
export function startCli(args: string[], input?: string): Running {
  return start(process.execPath, [CLI, ...args], input);
}

export function runCli(args: string[], input?: string): Promise<CliRun> {
  return startCli(args, input).done;
}

/** Quotes one word for `sh -c`. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `node dist/cli/main.js args…` inside a pseudo-terminal, through util-linux `script`. */
export function startCliInTty(args: string[]): Running {
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ');
  return start('script', ['-qfec', command, '/dev/null']);
}

/** A temporary folder, removed when the test ends. */
export function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'rxcurl-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
