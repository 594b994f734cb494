// Helpers of the reliability tests (test/reliability): misbehaving raw servers, a healthy server
// to prove the engine still works, and the counters a leak check compares.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { ExecutionContext, Implementation, SerialFn, TestFn } from 'ava';
import koffi from 'koffi';
import { lastValueFrom, type Observable } from 'rxjs';
import { Curl, CurlError, type CurlStats } from '../../src/index.js';
import { easyTargets, multiTargets } from '../../src/native/callbacks.js';
import { startTcpServer, type TestServer, useServer, waitFor } from './servers.js';

/**
 * A raw TCP server that hands each connection's first request bytes to `onRequest`; socket errors
 * (the client resetting a connection it gave up on) are ignored. Closed when the test ends.
 */
export async function useRawServer(
  t: ExecutionContext,
  onRequest: (socket: net.Socket, head: string) => void,
): Promise<TestServer> {
  const server = await startTcpServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (data: Buffer) => onRequest(socket, data.toString('latin1')));
  });
  t.teardown(() => server.close());
  return server;
}

/** Writes to `socket` for as long as it accepts data, honouring backpressure, until it closes. */
export function writeForever(socket: net.Socket, piece: () => string): void {
  const pump = () => {
    while (!socket.destroyed && socket.write(piece()));
    if (!socket.destroyed) socket.once('drain', pump);
  };
  pump();
}

/** An HTTP server that answers GET /ok/<n> with n bytes ('a' repeated), kept alive. */
export async function useHealthyServer(t: ExecutionContext): Promise<TestServer> {
  return useServer(t, (req, res) => {
    const size = Number(/^\/ok\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 2);
    res.writeHead(200, { 'content-length': size });
    res.end(Buffer.alloc(size, 'a'));
  });
}

/** The error an Observable ends with; fails the test if it completes instead. */
export function errorOf(observable: Observable<unknown>): Promise<unknown> {
  return lastValueFrom(observable).then(
    () => new Error('expected an error, the Observable completed'),
    (err: unknown) => err,
  );
}

/** Asserts `err` is a CurlError with this numeric code and CURLE_ name. */
export function assertCurlError(
  t: ExecutionContext,
  err: unknown,
  code: number,
  codeName: string,
): CurlError {
  t.true(err instanceof CurlError, `expected a CurlError, got ${String(err)}`);
  const e = err as CurlError;
  t.is(e.code, code, `${e.codeName}: ${e.message}`);
  t.is(e.codeName, codeName);
  return e;
}

/**
 * The engine is idle again (no transfer, no attached handle) and still works: a normal transfer on
 * the same Curl gets its exact body, and leaves it idle.
 */
export async function assertUsable(t: ExecutionContext, curl: Curl, healthy: TestServer): Promise<void> {
  await waitFor(
    () => curl.stats().transfers === 0 && curl.stats().easyHandles === 0,
    'the engine to be idle',
  );
  const response = await lastValueFrom(curl.request(`${healthy.url}/ok/1000`));
  t.is(response.status, 200);
  t.true(response.body.equals(Buffer.alloc(1000, 'a')), 'a normal transfer after the fault is exact');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
}

/**
 * Whether the loaded libcurl (Curl.version.libcurl, which honours RXCURL_LIBCURL) is `version` or
 * newer: for the few expectations where libcurl's behaviour differs between releases.
 */
export function libcurlAtLeast(version: string): boolean {
  const have = Curl.version.libcurl.split('.').map((part) => Number.parseInt(part, 10));
  const want = version.split('.').map(Number);
  for (let i = 0; i < want.length; i++) {
    if ((have[i] ?? 0) !== want[i]) return (have[i] ?? 0) > want[i];
  }
  return true;
}

/**
 * The message of CURLE_FILESIZE_EXCEEDED for a body over maxBodyBytes whose length libcurl was not
 * told up front (chunked, or `decoded` bytes of a compressed body). Either rxcurl's own, from its
 * count in the write callback (/maxBodyBytes/), or libcurl's, from the CURLOPT_MAXFILESIZE that rxcurl
 * also sets: libcurl applies it to a body of unknown length since 8.4.0, to decoded bytes since 8.20.0.
 */
export function overLimitMessage({ decoded }: { decoded: boolean }): RegExp {
  return libcurlAtLeast(decoded ? '8.20.0' : '8.4.0') ? /maximum allowed file size/ : /maxBodyBytes/;
}

/** Open file descriptors of this process. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The soft limit on open files of this process (RLIMIT_NOFILE), read from /proc/self/limits. */
export function fdLimit(): number {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
  } catch {
    return 1024;
  }
}

export const HEAVY = process.env.RXCURL_HEAVY === '1';

/** Running under CI (CI set, as CI services and .ci/run set it, and not 'false' or '0'). */
export const CI = !['', 'false', '0'].includes(process.env.CI ?? '');

/**
 * CI with RXCURL_HEAVY=1 runs every heavy case at full size: there, a file descriptor limit too low
 * for one fails the test (raise it with ulimit -n, as .ci/run does) instead of skipping or shrinking it.
 */
export const STRICT_HEAVY = CI && HEAVY;

/** Why `needed` open files do not fit under this process's soft limit; undefined when they do. */
export function fdShortfall(needed: number): string | undefined {
  const limit = fdLimit();
  return limit >= needed ? undefined : `needs ${needed} open files, the soft limit is ${limit}`;
}

/**
 * Declares a test (with `declare`: test or test.serial) that needs `needed` open files in this
 * process. When they do not fit, under CI with RXCURL_HEAVY=1 the test runs and fails, saying why;
 * elsewhere it is declared skipped, the reason in its title, so ava counts it as skipped, not passed.
 */
export function testNeedingFds(
  declare: TestFn | SerialFn,
  needed: number,
  title: string,
  implementation: Implementation<[]>,
): void {
  const short = fdShortfall(needed);
  if (short === undefined) declare(title, implementation);
  else if (STRICT_HEAVY) {
    declare(title, (t) => {
      t.fail(`${short}: raise it with ulimit -n (CI with RXCURL_HEAVY=1 runs every heavy case in full)`);
    });
  } else declare.skip(`${title} [skipped: ${short}; raise it with ulimit -n]`, implementation);
}

/**
 * Everything a leak check compares, before and after. RSS is only logged: in a shared test process it
 * is noise (glibc arenas, V8 heap sizing, other tests), and bounds on it belong in bench/.
 */
export interface Snapshot {
  rssMB: number;
  heapMB: number;
  fds: number;
  stats: CurlStats;
}

export function snapshot(curl: Curl | undefined): Snapshot {
  const mem = process.memoryUsage();
  return {
    rssMB: Math.round(mem.rss / 1e5) / 10,
    heapMB: Math.round(mem.heapUsed / 1e5) / 10,
    fds: openFds(),
    stats: curl
      ? curl.stats()
      : { transfers: 0, easyHandles: 0, pooledHandles: 0, sockets: 0, timerArmed: false },
  };
}

export function describeSnapshot(s: Snapshot): string {
  const { transfers, easyHandles, pooledHandles, sockets, timerArmed } = s.stats;
  return (
    `rss ${s.rssMB} MB, heap ${s.heapMB} MB, fds ${s.fds}, transfers ${transfers}, ` +
    `easy ${easyHandles}, pooled ${pooledHandles}, sockets ${sockets}, timer ${timerArmed}`
  );
}

/** Live entries of a callback target table (src/native/callbacks.ts), through what it exposes. */
function liveEntries(table: { get(id: number): unknown }): number {
  const { size, items } = table as unknown as { size?: unknown; items?: unknown };
  if (typeof size === 'number') return size;
  if (Array.isArray(items)) return items.filter((item) => item !== undefined).length;
  let live = 0; // ids are small integers: ask for each
  for (let id = 1; id < 2 ** 20; id++) if (table.get(id) !== undefined) live++;
  return live;
}

/**
 * Live entries of the process-wide callback target tables: one per easy handle that exists
 * (attached or pooled), one per multi handle.
 */
export function liveTargets(): { easy: number; multi: number } {
  return { easy: liveEntries(easyTargets), multi: liveEntries(multiTargets) };
}

/**
 * glibc keeps freed memory in its arenas, so RSS after a peak overstates what is still in use:
 * malloc_trim(0) hands the free pages back, and the RSS after it is what is really held.
 */
export const mallocTrim: (() => void) | undefined = (() => {
  try {
    const trim = koffi.load(null).func('int malloc_trim(size_t pad)') as (pad: number) => number;
    return () => void trim(0);
  } catch {
    return undefined;
  }
})();

/** A full garbage collection (V8's gc(), exposed to this process through v8.setFlagsFromString). */
export const gc: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

/** Runs a full GC a few times, letting finalizers and weak callbacks run between them. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/**
 * Runs a TypeScript file (through tsx, like the tests) in a child Node process; kills it after
 * `timeoutMs`. The outcome says how it ended, so a test can assert "exited 0, no hang, no crash".
 */
export function runChild(
  file: string,
  args: string[] = [],
  timeoutMs = 30_000,
  env: NodeJS.ProcessEnv = {},
): Promise<ChildOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import=tsx', file, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}
