// The proof of the queue (issue #15, item 6): three worker processes share one list; one is killed
// with SIGKILL while it holds transfers mid-body. Nothing is lost and nothing doubled: every URL
// ends with one file of the right bytes and one record, and only the killed worker's jobs were
// fetched again (continued with a range request where the partial file was on disk).
import { readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import { lastValueFrom, toArray } from 'rxjs';
import { enqueue, jobId, outputPath, queueResults } from '../../src/queue/index.js';
import { useRedisServer } from '../helpers/redisServer.js';
import { sha256, useTempDir } from '../helpers/servers.js';
import { payload, type ServedFile, until, useFileServer, useJobCounts } from './helpers.js';
import { startWorkerProcess } from './workerProcess.js';

const HEAVY = process.env.RXCURL_HEAVY !== undefined;
const URLS = HEAVY ? 10_000 : 600;
const SLOW = 12;
const SLOW_SIZE = 1_000_000;

test('kill -9 of one of three workers mid-transfer: every URL one file, one record, re-fetched only by the killed one', async (t) => {
  t.timeout(HEAVY ? 600_000 : 180_000);
  const redis = await useRedisServer(t);
  const conn = { redis: redis.url, queue: 'proof' };
  const dir = useTempDir(t, 'rxcurl-queue-kill-');
  const counts = useJobCounts(t, conn);
  const files = new Map<string, ServedFile>();
  for (let i = 0; i < URLS; i++) {
    const slow = i % Math.floor(URLS / SLOW) === 5;
    files.set(`file-${i}`, slow ? { size: SLOW_SIZE, slow } : { size: 200 + ((i * 37) % 4000) });
  }
  const server = await useFileServer(t, files);
  await enqueue(
    conn,
    [...files.keys()].map((name) => server.url(name)),
  );

  const env = (agent: string) => ({
    RXCURL_REDIS: redis.url,
    RXCURL_QUEUE: conn.queue,
    RXCURL_DIR: dir,
    RXCURL_CONCURRENCY: '8',
    // A lapsed lock moves a job back within seconds; renewed every 2.5 s, so a busy but live
    // worker keeps its jobs.
    RXCURL_LOCK_MS: '5000',
    RXCURL_STALLED_MS: '1000',
    RXCURL_AGENT: agent,
  });
  // w0 first, alone, until it holds slow transfers mid-body; then the two others.
  const victim = startWorkerProcess(t, env('w0'));
  await until(() => (server.held.get('w0') ?? 0) >= 3, 'w0 holding three transfers', 60_000);
  const survivors = [startWorkerProcess(t, env('w1')), startWorkerProcess(t, env('w2'))];
  await until(
    () => server.seen.some((r) => r.agent === 'w1') && server.seen.some((r) => r.agent === 'w2'),
    'w1 and w2 at work',
    60_000,
  );
  victim.child.kill('SIGKILL');
  t.is(await victim.exited, 'SIGKILL');
  server.release();

  await until(
    async () => (await counts()).completed === URLS,
    `${URLS} jobs completed`,
    HEAVY ? 540_000 : 150_000,
  );
  t.like(await counts(), { waiting: 0, active: 0, failed: 0, delayed: 0, prioritized: 0 });

  // One file per URL, with the right bytes, at its job's path; no partial file.
  const onDisk = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  t.deepEqual(
    onDisk.filter((e) => e.name.endsWith('.part')).map((e) => e.name),
    [],
  );
  t.is(onDisk.length, URLS);
  const records = await lastValueFrom(queueResults(conn).pipe(toArray()));
  const byId = new Map(records.map((r) => [r.id, r]));
  t.is(byId.size, URLS);
  let wrong = 0;
  for (const [name, file] of files) {
    const id = jobId(server.url(name));
    const expected = sha256(payload(name, file.size));
    const bytes = readFileSync(outputPath(dir, id));
    const record = byId.get(id);
    if (bytes.length !== file.size || sha256(bytes) !== expected) wrong++;
    if (record?.ok !== true || record.sha256 !== expected || record.bytes !== file.size) wrong++;
  }
  t.is(wrong, 0);

  // Each URL asked at least once; more than once only when w0 had it (every request but the last is w0's).
  const asked = new Map<string, { agent: string; range: string | undefined }[]>();
  for (const r of server.seen) asked.set(r.name, [...(asked.get(r.name) ?? []), r]);
  t.is(asked.size, URLS);
  const refetched = [...asked.values()].filter((requests) => requests.length > 1);
  t.true(refetched.length >= 3, `w0 held three transfers, ${refetched.length} fetched again`);
  t.true(refetched.every((requests) => requests.slice(0, -1).every((r) => r.agent === 'w0')));
  const ranged = server.seen.filter((r) => r.range !== undefined);
  t.true(ranged.length >= 1);
  t.true(ranged.every((r) => asked.get(r.name)?.[0].agent === 'w0'));

  // SIGTERM: the survivors drain and exit 0, leaving nothing active.
  for (const survivor of survivors) survivor.child.kill('SIGTERM');
  t.deepEqual(await Promise.all(survivors.map((s) => s.exited)), [0, 0]);
  t.like(await counts(), { completed: URLS, active: 0, waiting: 0 });
});
