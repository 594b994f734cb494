// The CLI's TransferQueue: per-host limits, retries at the queue, and a list read only as it is needed.
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { delay, useServer, waitFor } from '../helpers/servers.js';
import { runCli, startCli, tempDir } from './helpers.js';

/**
 * One handler served on 127.0.0.1 and 127.0.0.2, same port: two hosts for the queue. Returns the
 * base URL of each.
 */
async function twoHosts(t: ExecutionContext, handler: http.RequestListener): Promise<[string, string]> {
  const first = await useServer(t, handler);
  const second = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    second.once('error', reject);
    second.listen(first.port, '127.0.0.2', resolve);
  });
  t.teardown(() => {
    second.closeAllConnections();
    second.close();
  });
  return [first.url, `http://127.0.0.2:${(second.address() as AddressInfo).port}`];
}

/** `runCli`, and how long it took from spawn to exit: at least the CLI's own run. */
async function timedRun(args: string[]) {
  const began = performance.now();
  const run = await runCli(args);
  return { run, ms: performance.now() - began };
}

test('--max-per-host caps each host while -j lets both hosts run at once', async (t) => {
  // Counted up at each request, down once its response is sent: never above what the client runs.
  // Every response waits until 4 requests are in flight (2 per host), so the run cannot finish
  // unless both hosts run at once; after that they are answered at once.
  const active = new Map<string, number>();
  const most = new Map<string, number>();
  let total = 0;
  let mostTotal = 0;
  let open = false;
  const held: Array<() => void> = [];
  const [a, b] = await twoHosts(t, (req, res) => {
    const host = req.headers.host!;
    active.set(host, (active.get(host) ?? 0) + 1);
    most.set(host, Math.max(most.get(host) ?? 0, active.get(host)!));
    mostTotal = Math.max(mostTotal, ++total);
    res.on('finish', () => {
      active.set(host, active.get(host)! - 1);
      total--;
    });
    const answer = () => res.end(req.url);
    if (total >= 4) open = true;
    if (!open) return void held.push(answer);
    for (const h of held.splice(0)) h();
    answer();
  });
  const dir = tempDir(t);
  const urls = [a, b].flatMap((host, h) => [1, 2, 3, 4, 5, 6].map((i) => `${host}/${h}-${i}`));
  const run = await runCli(['-o', dir, '-j', '8', '--max-per-host', '2', ...urls]);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(Object.fromEntries(most), { [new URL(a).host]: 2, [new URL(b).host]: 2 });
  t.is(mostTotal, 4);
  t.is(readdirSync(dir).length, 12);
});

test('--delay-per-host: N URLs on one host take at least (N - 1) delays', async (t) => {
  const server = await useServer(t, (req, res) => res.end(req.url));
  const dir = tempDir(t);
  const urls = [1, 2, 3, 4].map((i) => `${server.url}/${i}`);
  const { run, ms } = await timedRun(['-o', dir, '-j', '4', '--delay-per-host', '400', ...urls]);
  t.is(run.code, 0, run.stderr);
  t.true(ms >= 3 * 400, `${ms} ms`);
  t.is(readdirSync(dir).length, 4);
});

test('--rate-per-host: N URLs on one host at R a second take at least (N - 1) / R seconds', async (t) => {
  const server = await useServer(t, (req, res) => res.end(req.url));
  const dir = tempDir(t);
  const urls = [1, 2, 3, 4, 5].map((i) => `${server.url}/${i}`);
  const { run, ms } = await timedRun(['-o', dir, '-j', '5', '--rate-per-host', '4', ...urls]);
  t.is(run.code, 0, run.stderr);
  t.true(ms >= (4 / 4) * 1000, `${ms} ms`);
  t.is(readdirSync(dir).length, 5);
});

test('--retry at the queue: a 503 with Retry-After pauses its host, the other host goes on, the retry comes back first', async (t) => {
  const seen: string[] = [];
  let flaky = 0;
  const [a, b] = await twoHosts(t, (req, res) => {
    const host = req.headers.host!.startsWith('127.0.0.1') ? 'a' : 'b';
    seen.push(`${host} ${req.url}`);
    if (req.url === '/flaky' && flaky++ === 0) return void res.writeHead(503, { 'retry-after': '1' }).end();
    res.end(req.url);
  });
  const dir = tempDir(t);
  const { run, ms } = await timedRun([
    '-o',
    dir,
    '-j',
    '1',
    '--retry',
    '1',
    `${a}/flaky`,
    `${a}/next`,
    `${b}/other`,
  ]);
  t.is(run.code, 0, run.stdout + run.stderr);
  t.deepEqual(seen, ['a /flaky', 'b /other', 'a /flaky', 'a /next']);
  t.true(ms >= 1000, `${ms} ms`);
  t.regex(run.stdout, /^ok flaky \(6 bytes, \d+ ms, 1 retry\)/m);
});

test('bad values of the per-host flags are usage errors naming the flag', async (t) => {
  for (const [flag, value] of [
    ['--max-per-host', '0'],
    ['--max-per-host', '1.5'],
    ['--rate-per-host', '0'],
    ['--rate-per-host', 'fast'],
    ['--delay-per-host', '-1'],
    ['--delay-per-host', 'soon'],
  ] as const) {
    const run = await runCli([`${flag}=${value}`, 'http://x/']);
    t.is(run.code, 2, `${flag} ${value}`);
    t.true(run.stderr.startsWith(`rxcurl: ${flag} needs `), run.stderr);
    t.regex(run.stderr, /\n\nUsage: rxcurl/);
  }
});

/** The read position of the open file `path` in process `pid`, from /proc; undefined while it is not open. */
function readPosition(pid: number, path: string): number | undefined {
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target !== path) continue;
    return Number(/^pos:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1]);
  }
  return undefined;
}

const LOOKAHEAD = 10_000; // the TransferQueue's default, which the CLI keeps

test('-i reads the list only as the queue has room: while transfers are held, at most the lookahead ahead', async (t) => {
  // Every request is held, so with -j 1 one transfer runs and the queue reads LOOKAHEAD URLs ahead.
  const server = await useServer(t, () => {});
  const dir = tempDir(t);
  const list = join(tempDir(t), 'urls.txt');
  const line = (i: number) => `${server.url}/f/${String(i).padStart(6, '0')}\n`;
  const lineBytes = line(0).length;
  writeFileSync(list, Array.from({ length: 200_000 }, (_, i) => line(i)).join(''));
  const cli = startCli(['-q', '-o', dir, '-j', '1', '-i', list]);
  t.teardown(() => cli.child.kill('SIGKILL'));
  const pid = cli.child.pid!;

  // The queue asked for LOOKAHEAD URLs, so at least that much was read.
  await waitFor(() => (readPosition(pid, list) ?? 0) >= LOOKAHEAD * lineBytes, 'the lookahead read', 20_000);
  // Beyond it, only readline's buffer (lines read from the input but not yet asked for, at most
  // 1024 and the rest of one chunk) and the stream's two 64 KiB chunks.
  const bound = (LOOKAHEAD + 1024) * lineBytes + 4 * 65_536;
  for (let i = 0; i < 5; i++) {
    const position = readPosition(pid, list)!;
    t.true(position <= bound, `read ${position} bytes of ${200_000 * lineBytes}, bound ${bound}`);
    await delay(100);
  }
  t.is(server.requests.length, 1);
});
