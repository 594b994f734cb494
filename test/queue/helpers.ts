// Shared by the queue tests: a file server whose slow files can be held mid-transfer, the queue's
// job counts, and polling until a condition holds.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { ExecutionContext } from 'ava';
import { Queue } from 'bullmq';
import type { QueueConnection } from '../../src/queue/index.js';
import { type TestServer, useServer } from '../helpers/servers.js';

/** The deterministic content of file `name`: sha256 blocks of the name and a counter. */
export function payload(name: string, size: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; i * 32 < size; i++) blocks.push(createHash('sha256').update(`${name}:${i}`).digest());
  return Buffer.concat(blocks).subarray(0, size);
}

export interface ServedFile {
  size: number;
  /** Send the first half, then hold the rest until `release()` (a request with a Range is never held). */
  slow?: boolean;
}

export interface SeenRequest {
  name: string;
  range: string | undefined;
  /** The User-Agent: which worker asked. */
  agent: string;
}

export interface FileServer {
  server: TestServer;
  /** The URL of file `name`. */
  url(name: string): string;
  seen: SeenRequest[];
  /** Responses now held mid-body, by User-Agent. */
  held: Map<string, number>;
  /** Lets every held response finish, and every later one run without a hold. */
  release(): void;
}

/**
 * Serves `/f/<name>` from `files` (404 for others), with Range requests answered 206 from the
 * offset. `respond` may answer first (for statuses); it returns true when it did.
 */
export async function useFileServer(
  t: ExecutionContext,
  files: Map<string, ServedFile>,
  respond?: (name: string, res: http.ServerResponse, seen: SeenRequest[]) => boolean,
): Promise<FileServer> {
  const seen: SeenRequest[] = [];
  const held = new Map<string, number>();
  let released = false;
  let releaseAll = () => {};
  const whenReleased = new Promise<void>((resolve) => {
    releaseAll = resolve;
  });
  const server = await useServer(t, (req, res) => {
    const name = decodeURIComponent((req.url ?? '').replace(/^\/f\//, ''));
    const range = req.headers.range;
    const agent = req.headers['user-agent'] ?? '';
    seen.push({ name, range, agent });
    if (respond?.(name, res, seen)) return;
    const file = files.get(name);
    if (file === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = payload(name, file.size);
    const from = range === undefined ? 0 : Number(/^bytes=(\d+)-$/.exec(range)?.[1]);
    const rest = body.subarray(from);
    res.writeHead(from > 0 ? 206 : 200, {
      'content-length': rest.length,
      ...(from > 0 && { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` }),
    });
    if (!file.slow || released || range !== undefined) {
      res.end(rest);
      return;
    }
    const half = Math.floor(rest.length / 2);
    res.write(rest.subarray(0, half));
    held.set(agent, (held.get(agent) ?? 0) + 1);
    let counted = true;
    const uncount = () => {
      if (counted) held.set(agent, (held.get(agent) ?? 1) - 1);
      counted = false;
    };
    res.once('close', uncount);
    void whenReleased.then(() => {
      uncount();
      if (!res.destroyed) res.end(rest.subarray(half));
    });
  });
  return {
    server,
    url: (name) => `${server.url}/f/${encodeURIComponent(name)}`,
    seen,
    held,
    release: () => {
      released = true;
      releaseAll();
    },
  };
}

export type JobCounts = Record<
  'waiting' | 'active' | 'failed' | 'delayed' | 'completed' | 'prioritized',
  number
>;

/** The queue's jobs by state, through a Queue closed when the test ends. */
export function useJobCounts(t: ExecutionContext, conn: QueueConnection): () => Promise<JobCounts> {
  const queue = new Queue(conn.queue ?? 'rxcurl', { connection: { url: conn.redis }, prefix: 'rxcurl' });
  t.teardown(() => queue.close());
  return async () =>
    (await queue.getJobCounts(
      'waiting',
      'active',
      'failed',
      'delayed',
      'completed',
      'prioritized',
    )) as JobCounts;
}

/** The failed jobs' reasons and attempts. */
export async function failedJobs(
  conn: QueueConnection,
): Promise<{ id: string; reason: string; attemptsMade: number }[]> {
  const queue = new Queue(conn.queue ?? 'rxcurl', { connection: { url: conn.redis }, prefix: 'rxcurl' });
  try {
    const jobs = await queue.getFailed();
    return jobs.map((job) => ({
      id: job.id ?? '',
      reason: job.failedReason,
      attemptsMade: job.attemptsMade,
    }));
  } finally {
    await queue.close();
  }
}

/** Polls `condition` (which may be async) every 50 ms until it holds; rejects after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
