import { readFileSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { enqueue, jobId, outputPath } from '../../src/queue/index.js';
import { useRedisServer } from '../helpers/redisServer.js';
import { sha256, useTempDir } from '../helpers/servers.js';
import { payload, type ServedFile, until, useFileServer, useJobCounts } from './helpers.js';
import { startWorkerProcess } from './workerProcess.js';

async function setUp(t: ExecutionContext, slow: number) {
  const redis = await useRedisServer(t);
  const conn = { redis: redis.url, queue: 'signals' };
  const dir = useTempDir(t, 'rxcurl-queue-signals-');
  const files = new Map<string, ServedFile>();
  for (let i = 0; i < slow; i++) files.set(`slow-${i}`, { size: 300_000, slow: true });
  const server = await useFileServer(t, files);
  await enqueue(
    conn,
    [...files.keys()].map((name) => server.url(name)),
  );
  const env = (agent: string, drainMs: number) => ({
    RXCURL_REDIS: redis.url,
    RXCURL_QUEUE: conn.queue,
    RXCURL_DIR: dir,
    RXCURL_CONCURRENCY: '4',
    RXCURL_DRAIN_MS: String(drainMs),
    RXCURL_AGENT: agent,
  });
  return { conn, dir, files, server, env, counts: useJobCounts(t, conn) };
}

test('SIGTERM: the worker drains, puts what still runs back in wait and exits 0; no job is left stalled', async (t) => {
  const { dir, files, server, env, counts } = await setUp(t, 3);
  // The lock lasts 30 s (the default): a job left active would stay there for the rest of the test.
  const worker = startWorkerProcess(t, env('w1', 300));
  await until(() => (server.held.get('w1') ?? 0) === 3, 'three transfers held', 30_000);
  worker.child.kill('SIGTERM');
  t.is(await worker.exited, 0, worker.stderr());
  t.like(await counts(), { active: 0, waiting: 3, completed: 0, failed: 0 });

  server.release();
  startWorkerProcess(t, env('w2', 300));
  await until(async () => (await counts()).completed === 3, 'three jobs completed', 30_000);
  t.is(server.seen.filter((r) => r.agent === 'w2' && r.range !== undefined).length, 3);
  for (const [name, file] of files)
    t.is(sha256(readFileSync(outputPath(dir, jobId(server.url(name))))), sha256(payload(name, file.size)));
});

test('a second SIGTERM while draining exits at once, with 128 + 15', async (t) => {
  const { server, env } = await setUp(t, 2);
  const worker = startWorkerProcess(t, env('w1', 600_000));
  await until(() => (server.held.get('w1') ?? 0) === 2, 'two transfers held', 30_000);
  worker.child.kill('SIGTERM');
  // The first signal's close() waits on the held transfers (drain 600 s); the second ends it.
  await until(() => worker.stderr().includes('SIGTERM received'), 'the first signal handled', 30_000);
  worker.child.kill('SIGTERM');
  t.is(await worker.exited, 143);
});
