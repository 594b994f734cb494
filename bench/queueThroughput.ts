/**
 * `npx tsx bench/queueThroughput.ts [COUNT] [J]`: the same COUNT URLs (default 10,000; 1 to 64 KiB
 * files from a local nginx) through one `rxcurl -j J` process, then through 1, 2 and 3
 * `rxcurl worker` processes of J/W jobs each (the same total concurrency, default 24) on a local
 * redis-server. For each: wall time from the processes' start to the last finished URL, URLs/s,
 * and for the queue the Redis commands per job from INFO commandstats (reset after enqueue, read
 * at the last job: every command, those run inside BullMQ's Lua scripts included; `evalsha` alone
 * is the scripts' round trips). Needs nginx and redis-server; runs dist/cli/main.js (npm run build).
 * Prints a markdown table.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './freePort.js';

const COUNT = Number(process.argv[2] ?? 10_000);
const J = Number(process.argv[3] ?? 24);
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'rxcurl-qbench-'));

// nginx: 64 files of 1 to 64 KiB; URL i asks for file 1 + (i·37 mod 64) with ?i, so every URL differs.
const www = join(dir, 'www');
mkdirSync(www);
chmodSync(dir, 0o755); // nginx's worker runs as another user
for (let k = 1; k <= 64; k++) writeFileSync(join(www, `s${k}.bin`), Buffer.alloc(k * 1024, k));
const httpPort = await freePort();
writeFileSync(
  join(dir, 'nginx.conf'),
  `daemon on; pid ${dir}/nginx.pid; worker_processes 1; error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http { access_log off; sendfile on; keepalive_requests 100000000; client_body_temp_path ${dir}/body;
  server { listen 127.0.0.1:${httpPort}; root ${www}; } }
`,
);
execFileSync('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]);
const urls = Array.from(
  { length: COUNT },
  (_, i) => `http://127.0.0.1:${httpPort}/s${1 + ((i * 37) % 64)}.bin?i=${i}`,
);
const list = join(dir, 'urls.txt');
writeFileSync(list, `${urls.join('\n')}\n`);

const redisPort = await freePort();
const redisServer = spawn(
  'redis-server',
  ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
  { stdio: 'ignore' },
);
const redisUrl = `redis://127.0.0.1:${redisPort}`;
// Until redis-server listens.
for (;;) {
  const socket = net.connect(redisPort, '127.0.0.1');
  const [event] = await Promise.race([once(socket, 'connect').then(() => ['up']), once(socket, 'error')]);
  socket.destroy();
  if (event === 'up') break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const admin = new Redis(redisUrl);

/** Starts `rxcurl args…`, counting the lines of finished URLs it prints, and failures among them. */
function cli(args: string[]): ChildProcess & { finished: () => number; failed: () => number } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let finished = 0;
  let failed = 0;
  let tail = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    const lines = (tail + s).split('\n');
    tail = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('ok ')) finished++;
      if (line.startsWith('failed ')) failed++;
    }
  });
  return Object.assign(child, { finished: () => finished + failed, failed: () => failed });
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** redis-server's CPU seconds so far (user + system, its main thread and the rest). */
async function redisCpuSeconds(): Promise<number> {
  const info = await admin.info('cpu');
  const user = Number(/^used_cpu_user:([\d.]+)/m.exec(info)?.[1]);
  const sys = Number(/^used_cpu_sys:([\d.]+)/m.exec(info)?.[1]);
  return user + sys;
}

/** cmdstat name → calls. */
async function commandStats(): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  const stats = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(m[1], Number(m[2]));
  return stats;
}

function failures(children: ReturnType<typeof cli>[]): void {
  const failed = children.reduce((n, c) => n + c.failed(), 0);
  if (failed > 0) throw new Error(`${failed} URLs failed: the figures would not compare`);
}

interface Row {
  what: string;
  seconds: number;
  perJob?: number;
  evalshaPerJob?: number;
  redisUsPerJob?: number;
  top?: string;
}
const rows: Row[] = [];

try {
  {
    const began = performance.now();
    const child = cli(['-i', list, '-j', String(J), '-o', join(dir, 'plain')]);
    await once(child, 'close');
    failures([child]);
    rows.push({
      what: `rxcurl -j ${J} (one process, no queue)`,
      seconds: (performance.now() - began) / 1000,
    });
  }
  for (const workers of [1, 2, 3]) {
    await admin.flushall();
    const enqueueBegan = performance.now();
    execFileSync(process.execPath, [CLI, 'enqueue', '--redis', redisUrl, '-i', list]);
    const enqueueSeconds = (performance.now() - enqueueBegan) / 1000;
    await admin.config('RESETSTAT');
    const cpuBefore = await redisCpuSeconds();
    const began = performance.now();
    const children = Array.from({ length: workers }, () =>
      cli(['worker', '--redis', redisUrl, '-j', String(J / workers), '-o', join(dir, `w${workers}`)]),
    );
    await waitFor(() => children.reduce((n, c) => n + c.finished(), 0) >= COUNT);
    failures(children);
    const seconds = (performance.now() - began) / 1000;
    const stats = await commandStats();
    const redisCpuUs = ((await redisCpuSeconds()) - cpuBefore) * 1e6;
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => once(c, 'close')));
    stats.delete('info');
    stats.delete('config');
    const total = [...stats.values()].reduce((a, b) => a + b, 0);
    const top = [...stats]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([name, calls]) => `${name} ${(calls / COUNT).toFixed(1)}`)
      .join(', ');
    rows.push({
      what: `${workers} × rxcurl worker -j ${J / workers} (enqueue took ${enqueueSeconds.toFixed(1)} s)`,
      seconds,
      perJob: total / COUNT,
      evalshaPerJob: (stats.get('evalsha') ?? 0) / COUNT,
      redisUsPerJob: redisCpuUs / COUNT,
      top,
    });
  }
  console.log(`${COUNT} URLs of 1-64 KiB from nginx on 127.0.0.1, redis-server on 127.0.0.1\n`);
  console.log(
    '| run | wall time | URLs/s | Redis commands per job (evalsha) | Redis CPU per job | most called, per job |',
  );
  console.log('|---|---:|---:|---:|---:|---|');
  for (const r of rows)
    console.log(
      `| ${r.what} | ${r.seconds.toFixed(1)} s | ${Math.round(COUNT / r.seconds)} | ${
        r.perJob === undefined ? '-' : `${r.perJob.toFixed(1)} (${r.evalshaPerJob?.toFixed(1)})`
      } | ${r.redisUsPerJob === undefined ? '-' : `${Math.round(r.redisUsPerJob)} µs`} | ${r.top ?? '-'} |`,
    );
} finally {
  admin.disconnect();
  redisServer.kill('SIGTERM');
  process.kill(Number(readFileSync(join(dir, 'nginx.pid'), 'utf8')), 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
