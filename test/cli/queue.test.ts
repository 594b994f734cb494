// The built CLI's queue subcommands against a real redis-server and a local file server:
// enqueue (idempotent), a worker process that downloads and drains on SIGTERM, status, results.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { jobId, outputPath, type QueueResult } from '../../src/queue/index.js';
import { useRedisServer } from '../helpers/redisServer.js';
import { sha256 } from '../helpers/servers.js';
import { WITHOUT_QUEUE_DEPENDENCIES } from '../helpers/withoutQueueDependencies.js';
import { payload, type ServedFile, until, useFileServer, useJobCounts } from '../queue/helpers.js';
import { CLI, type Running, runCli, start, startCli, tempDir } from './helpers.js';

async function setUp(t: ExecutionContext, files: Map<string, ServedFile>) {
  const redis = await useRedisServer(t);
  const conn = { redis: redis.url, queue: 'cli' };
  const server = await useFileServer(t, files);
  const flags = ['--redis', redis.url, '--queue', conn.queue];
  return { conn, server, flags, counts: useJobCounts(t, conn), dir: tempDir(t) };
}

/** `rxcurl worker`, killed when the test ends if still running. */
function startWorker(t: ExecutionContext, args: string[]): Running {
  const worker = startCli(['worker', ...args]);
  t.teardown(() => {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  });
  return worker;
}

test('enqueue from arguments and from -i: a URL enqueued again adds no job', async (t) => {
  const { server, flags, counts, dir } = await setUp(t, new Map());
  const urls = Array.from({ length: 2500 }, (_, i) => server.url(`f${i}`));
  const list = join(dir, 'urls.txt');
  writeFileSync(list, `# a comment\n\n${urls.join('\n')}\n`);

  const fromArgs = await runCli(['enqueue', ...flags, urls[0], urls[1]]);
  t.is(fromArgs.code, 0, fromArgs.stderr);
  t.is(fromArgs.stdout, 'submitted 2 URLs in 1 batch\n');
  t.like(await counts(), { waiting: 2 });

  const fromFile = await runCli(['enqueue', ...flags, '-i', list]);
  t.is(fromFile.code, 0, fromFile.stderr);
  t.is(fromFile.stdout, 'submitted 2500 URLs in 3 batches\n');
  t.like(await counts(), { waiting: 2500 });

  const again = await runCli(['enqueue', ...flags, '-i', list]);
  t.is(again.code, 0, again.stderr);
  t.like(await counts(), { waiting: 2500, active: 0, completed: 0 });

  const fromStdin = await runCli(['enqueue', ...flags], `${urls[5]}\n${server.url('extra')}\n`);
  t.is(fromStdin.code, 0, fromStdin.stderr);
  t.like(await counts(), { waiting: 2501 });
});

test('a worker downloads every job, one line each; status counts them; results prints one record per URL', async (t) => {
  const files = new Map<string, ServedFile>();
  for (let i = 0; i < 30; i++) files.set(`file-${i}`, { size: 1000 + i * 4099 });
  const { server, flags, counts, dir } = await setUp(t, files);
  const urls = [...files.keys()].map((name) => server.url(name));
  const missing = server.url('missing');
  t.is((await runCli(['enqueue', ...flags, ...urls, missing])).code, 0);

  const out = join(dir, 'out');
  const worker = startWorker(t, [...flags, '-j', '4', '-o', out]);
  await until(
    async () => {
      const c = await counts();
      return c.completed === 30 && c.failed === 1;
    },
    'every job done',
    30_000,
  );
  worker.child.kill('SIGTERM');
  const exit = await worker.done;
  t.is(exit.code, 0, exit.stderr);

  for (const [name, file] of files) {
    const path = outputPath(out, jobId(server.url(name)));
    t.is(sha256(readFileSync(path)), sha256(payload(name, file.size)), name);
  }
  const lines = exit.stdout.split('\n').filter(Boolean);
  t.is(lines.length, 31);
  t.is(lines.filter((line) => line.startsWith('ok ')).length, 30);
  t.true(lines.includes(`failed HTTP 404 ${missing}`));
  const first = server.url('file-0');
  t.true(lines.includes(`ok ${jobId(first).slice(0, 2)}/${jobId(first)} (1000 bytes) ${first}`));

  const status = await runCli(['status', ...flags]);
  t.is(status.code, 0, status.stderr);
  t.is(
    status.stdout,
    [
      'waiting    0',
      'active     0',
      'delayed    0',
      'completed 30',
      'failed     1',
      'top failure reasons:',
      '  1  HTTP 404 from <url>',
      '',
    ].join('\n'),
  );

  const results = await runCli(['results', ...flags]);
  t.is(results.code, 0, results.stderr);
  const records = results.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as QueueResult);
  t.deepEqual(records.map((r) => r.url).sort(), [...urls, missing].sort());
  for (const r of records) {
    if (r.url === missing) t.like(r, { ok: false, status: 404, bytes: 0 });
    else
      t.like(r, {
        ok: true,
        status: 200,
        path: outputPath(out, r.id),
        sha256: sha256(readFileSync(r.path!)),
      });
  }
  t.like(await counts(), { waiting: 0, active: 0, delayed: 0 });
});

test('SIGTERM: the worker stops taking jobs, puts its running ones back and exits 0, none left active', async (t) => {
  const files = new Map<string, ServedFile>();
  for (let i = 0; i < 5; i++) files.set(`slow-${i}`, { size: 200_000, slow: true });
  const { server, flags, counts, dir } = await setUp(t, files);
  t.is((await runCli(['enqueue', ...flags, ...[...files.keys()].map((n) => server.url(n))])).code, 0);

  const worker = startWorker(t, [...flags, '-j', '3', '-o', dir, '--drain-timeout', '0.3']);
  // -j 3: it holds three transfers and takes no fourth job.
  await until(() => held(server.held) === 3, 'three transfers held', 30_000);
  worker.child.kill('SIGTERM');
  const exit = await worker.done;
  t.is(exit.code, 0, exit.stderr);
  t.is(exit.stdout, '');
  t.like(await counts(), { active: 0, waiting: 5, completed: 0, failed: 0 });
});

/** Responses held mid-body, whatever the User-Agent. */
function held(byAgent: Map<string, number>): number {
  return [...byAgent.values()].reduce((sum, n) => sum + n, 0);
}

test('usage errors exit 2 and name the flag; --help prints the subcommand usage', async (t) => {
  const noRedis = await runCli(['worker', '-j', '4']);
  t.is(noRedis.code, 2);
  t.regex(noRedis.stderr, /^rxcurl worker: --redis URL is required/);
  t.regex(noRedis.stderr, /Usage: rxcurl worker --redis URL/);

  const unknown = await runCli(['status', '--redis', 'redis://127.0.0.1:1', '--jobs', '3']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /Unknown option '--jobs'/);

  const badJobs = await runCli(['worker', '--redis', 'redis://127.0.0.1:1', '-j', 'x']);
  t.is(badJobs.code, 2);
  t.regex(badJobs.stderr, /-j needs an integer >= 1, got 'x'/);

  const help = await runCli(['results', '--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /^Usage: rxcurl results --redis URL/);

  const main = await runCli(['--help']);
  t.regex(main.stdout, /rxcurl enqueue --redis URL/);
});

function cliWithoutQueueDependencies(args: string[]) {
  return start(process.execPath, [...WITHOUT_QUEUE_DEPENDENCIES, CLI, ...args]).done;
}

test('plain downloads never load bullmq or ioredis; a subcommand does', async (t) => {
  const files = new Map<string, ServedFile>([['plain', { size: 5000 }]]);
  const server = await useFileServer(t, files);
  const dir = tempDir(t);
  const plain = await cliWithoutQueueDependencies(['-q', '-o', dir, server.url('plain')]);
  t.is(plain.code, 0, plain.stderr);
  t.is(sha256(readFileSync(join(dir, 'plain'))), sha256(payload('plain', 5000)));

  const status = await cliWithoutQueueDependencies(['status', '--redis', 'redis://127.0.0.1:1']);
  t.is(status.code, 2);
  t.regex(status.stderr, /queue dependency loaded: (bullmq|ioredis)/);
});
