import { existsSync, readdirSync, readFileSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import { lastValueFrom, toArray } from 'rxjs';
import {
  enqueue,
  jobId,
  outputPath,
  type QueueResult,
  queueResults,
  type RunWorkerOptions,
  runWorker,
} from '../../src/queue/index.js';
import { useRedisServer } from '../helpers/redisServer.js';
import { sha256, useTempDir } from '../helpers/servers.js';
import { failedJobs, payload, type ServedFile, until, useFileServer, useJobCounts } from './helpers.js';

async function setUp(t: ExecutionContext) {
  const redis = await useRedisServer(t);
  const conn = { redis: redis.url, queue: 'test' };
  const dir = useTempDir(t, 'rxcurl-queue-');
  return { conn, dir, counts: useJobCounts(t, conn) };
}

function useWorker(t: ExecutionContext, options: RunWorkerOptions) {
  const worker = runWorker(options);
  const results: QueueResult[] = [];
  worker.results$.subscribe((r) => results.push(r));
  t.teardown(() => worker.close());
  return { worker, results };
}

async function records(conn: { redis: string; queue: string }): Promise<Map<string, QueueResult>> {
  const all = await lastValueFrom(queueResults(conn).pipe(toArray()));
  return new Map(all.map((r) => [r.id, r]));
}

/** Every file (partial ones included) under `dir`. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
}

test('a worker downloads every URL: the right bytes at the job id path, one record each, jobs completed', async (t) => {
  const { conn, dir, counts } = await setUp(t);
  const files = new Map<string, ServedFile>();
  for (let i = 0; i < 40; i++) files.set(`file-${i}`, { size: 1000 + i * 997 });
  const server = await useFileServer(t, files);
  const urls = [...files.keys()].map((name) => server.url(name));
  await enqueue(conn, urls);
  const { results } = useWorker(t, { ...conn, dir, concurrency: 4 });

  await until(async () => (await counts()).completed === urls.length, 'every job completed', 30_000);
  const stored = await records(conn);
  t.is(stored.size, urls.length);
  for (const [name, file] of files) {
    const url = server.url(name);
    const id = jobId(url);
    const expected = payload(name, file.size);
    const onDisk = readFileSync(outputPath(dir, id));
    t.is(onDisk.length, file.size);
    t.is(sha256(onDisk), sha256(expected));
    t.like(stored.get(id), {
      id,
      url,
      ok: true,
      bytes: file.size,
      sha256: sha256(expected),
      status: 200,
      attempts: 1,
    });
  }
  t.is(results.length, urls.length);
  t.is(server.seen.length, urls.length);
  t.deepEqual(
    filesUnder(dir).filter((name) => name.endsWith('.part')),
    [],
  );
  t.like(await counts(), { waiting: 0, active: 0, failed: 0, delayed: 0 });
});

test('a 404 fails the job for good: failed set with the reason, asked once, a record with ok false', async (t) => {
  const { conn, dir, counts } = await setUp(t);
  const server = await useFileServer(t, new Map());
  const url = server.url('missing');
  await enqueue(conn, [url], { attempts: 5, backoffMs: 10 });
  useWorker(t, { ...conn, dir });

  await until(async () => (await counts()).failed === 1, 'the job failed', 20_000);
  const [failed] = await failedJobs(conn);
  t.is(failed.id, jobId(url));
  t.regex(failed.reason, /404/);
  t.is(failed.attemptsMade, 1);
  t.is(server.seen.length, 1);
  t.like((await records(conn)).get(jobId(url)), { url, ok: false, status: 404, bytes: 0, attempts: 1 });
  t.false(existsSync(outputPath(dir, jobId(url))));
  t.deepEqual(filesUnder(dir), []);
});

test('an invalid URL fails for good without a retry', async (t) => {
  const { conn, dir, counts } = await setUp(t);
  const url = 'nosuchscheme://example.invalid/x';
  await enqueue(conn, [url], { attempts: 5, backoffMs: 10 });
  useWorker(t, { ...conn, dir });

  await until(async () => (await counts()).failed === 1, 'the job failed', 20_000);
  const [failed] = await failedJobs(conn);
  t.is(failed.attemptsMade, 1);
  t.like((await records(conn)).get(jobId(url)), { url, ok: false, status: 0, attempts: 1 });
});

test('a 503 is retried by BullMQ attempts with backoff, and the job ends ok', async (t) => {
  const { conn, dir, counts } = await setUp(t);
  const size = 5000;
  const server = await useFileServer(t, new Map([['flaky', { size }]]), (_name, res, seen) => {
    if (seen.length > 2) return false;
    res.writeHead(503).end('busy');
    return true;
  });
  const url = server.url('flaky');
  await enqueue(conn, [url], { attempts: 5, backoffMs: 100 });
  const started = Date.now();
  useWorker(t, { ...conn, dir });

  await until(async () => (await counts()).completed === 1, 'the job completed', 20_000);
  // Backoff 100 ms, then 200 ms: at least 300 ms between the first request and the third.
  t.true(Date.now() - started >= 300);
  t.is(server.seen.length, 3);
  t.like((await records(conn)).get(jobId(url)), { ok: true, bytes: size, status: 200, attempts: 3 });
  t.is(sha256(readFileSync(outputPath(dir, jobId(url)))), sha256(payload('flaky', size)));
  t.like(await counts(), { failed: 0, active: 0, waiting: 0 });
});

test('close() lets running jobs finish and takes no more', async (t) => {
  const { conn, dir, counts } = await setUp(t);
  const files = new Map<string, ServedFile>();
  for (let i = 0; i < 6; i++) files.set(`slow-${i}`, { size: 200_000, slow: true });
  const server = await useFileServer(t, files);
  await enqueue(
    conn,
    [...files.keys()].map((name) => server.url(name)),
  );
  const { worker, results } = useWorker(t, { ...conn, dir, concurrency: 2, drainTimeoutMs: 60_000 });

  await until(() => server.seen.length === 2, 'two transfers held', 20_000);
  const closed = worker.close();
  server.release();
  await closed;
  t.is(results.length, 2);
  t.true(results.every((r) => r.ok));
  t.is(server.seen.length, 2);
  t.like(await counts(), { completed: 2, waiting: 4, active: 0 });
});

test('close() puts the jobs still running at drainTimeoutMs back in wait, partial files kept', async (t) => {
  const { conn, dir, counts } = await setUp(t);
  const files = new Map<string, ServedFile>();
  for (let i = 0; i < 3; i++) files.set(`slow-${i}`, { size: 200_000, slow: true });
  const server = await useFileServer(t, files);
  await enqueue(
    conn,
    [...files.keys()].map((name) => server.url(name)),
  );
  const { worker, results } = useWorker(t, { ...conn, dir, concurrency: 3, drainTimeoutMs: 300 });

  await until(
    () => (server.held.get(server.seen[0]?.agent ?? '') ?? 0) === 3,
    'three transfers held',
    20_000,
  );
  const closing = Date.now();
  await worker.close();
  t.true(Date.now() - closing >= 300);
  t.is(results.length, 0);
  t.like(await counts(), { waiting: 3, active: 0, completed: 0, failed: 0 });
  t.is(filesUnder(dir).filter((name) => name.endsWith('.part')).length, 3);

  // Another worker continues the partial files with range requests and ends with the right bytes.
  server.release();
  useWorker(t, { ...conn, dir, concurrency: 3 });
  await until(async () => (await counts()).completed === 3, 'every job completed', 20_000);
  t.is(server.seen.filter((r) => r.range !== undefined).length, 3);
  for (const [name, file] of files)
    t.is(sha256(readFileSync(outputPath(dir, jobId(server.url(name))))), sha256(payload(name, file.size)));
  t.deepEqual(
    filesUnder(dir).filter((name) => name.endsWith('.part')),
    [],
  );
});

test('a job whose lock is lost stops its transfer; it runs again from the stalled check, continuing the partial file', async (t) => {
  const { conn, dir, counts } = await setUp(t);
  const size = 300_000;
  const server = await useFileServer(t, new Map([['slow', { size, slow: true }]]));
  const url = server.url('slow');
  await enqueue(conn, [url]);
  const { worker } = useWorker(t, {
    ...conn,
    dir,
    concurrency: 1,
    lockDurationMs: 1000,
    stalledIntervalMs: 300,
    curl: { defaults: { userAgent: 'w' } },
  });
  const errors: string[] = [];
  worker.errors$.subscribe((error) => errors.push(error.message));

  await until(() => server.held.get('w') === 1, 'the transfer held', 20_000);
  // As if the lock had lapsed while the worker was busy: the next renewal fails.
  const redis = new Redis(conn.redis);
  t.teardown(() => redis.disconnect());
  t.is(await redis.del(`rxcurl:${conn.queue}:${jobId(url)}:lock`), 1);
  await until(() => server.held.get('w') === 0, 'the transfer cancelled', 20_000);
  await until(async () => (await counts()).completed === 1, 'the job completed', 20_000);
  t.true(errors.some((message) => message.includes('could not renew lock')));
  t.deepEqual(
    server.seen.map((r) => r.range !== undefined),
    [false, true],
  );
  t.is(sha256(readFileSync(outputPath(dir, jobId(url)))), sha256(payload('slow', size)));
});
