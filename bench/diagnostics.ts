/**
 * What the diagnostics channels cost: CPU time per 1 KiB transfer through `requestAll()` with
 * nobody subscribed, and with a subscriber (that only counts) on every `rxcurl:transfer:*` channel.
 * Each run also times the publishing alone: the three events of a completed transfer, published a
 * million times with the same subscribers. Each run is a fresh client process, the two modes alternating; the server is a Node http server
 * in a process of its own (pinned to CPU 0, the clients to CPU 1 when taskset is there). Uses the
 * built package: `npm run build` first.
 *
 *   npx tsx bench/diagnostics.ts [--transfers 20000] [--runs 7] [--concurrency 64]
 *
 * Prints the medians as a markdown table (each run on stderr).
 */
import { execFileSync, spawn } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Curl, TRANSFER_CHANNELS } from 'rxcurl';
import { count, lastValueFrom } from 'rxjs';
import { publishDone, publishResponse, publishStart } from '../dist/core/diagnostics.js';
import { pinned } from './system.js';

const SELF = fileURLToPath(import.meta.url);
const BODY = Buffer.alloc(1024, 'x');
const WARMUP = 2000;
const EVENT_LOOPS = 1_000_000;

type Mode = 'off' | 'on';
interface Run {
  mode: Mode;
  cpuUs: number;
  /** CPU ns to publish start, response and done once (what one completed transfer publishes). */
  eventsNs: number;
  reqPerSec: number;
  published: number;
}

const { values } = parseArgs({
  options: {
    transfers: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '7' },
    concurrency: { type: 'string', default: '64' },
    serve: { type: 'boolean', default: false },
    client: { type: 'string' },
    url: { type: 'string' },
  },
});
const transfers = Number(values.transfers);
const concurrency = Number(values.concurrency);

if (values.serve) serve();
else if (values.client) await client(values.client as Mode, values.url!);
else await main();

function serve(): void {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-length', BODY.length);
    res.end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
}

/** One run: warm up, then `transfers` transfers measured; prints a Run as JSON. */
async function client(mode: Mode, url: string): Promise<void> {
  let published = 0;
  if (mode === 'on') {
    const listener = () => {
      published++;
    };
    for (const name of Object.values(TRANSFER_CHANNELS)) subscribe(name, listener);
  }
  const curl = new Curl();
  const all = (n: number) =>
    lastValueFrom(
      curl
        .requestAll(
          Array.from({ length: n }, () => url),
          { concurrency },
        )
        .pipe(count()),
    );
  await all(WARMUP);
  published = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const settled = await all(transfers);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const { user, system } = process.cpuUsage(cpu);
  const publishedInRun = published;
  const result = await lastValueFrom(curl.request(url)).then((response) => response.result);
  await curl.close();
  if (settled !== transfers) throw new Error(`${settled} of ${transfers} transfers settled`);
  const head = { status: 200, httpVersion: '1.1', headers: {}, url };
  const eventsCpu = process.cpuUsage();
  for (let i = 0; i < EVENT_LOOPS; i++) {
    publishStart(i, url, 'GET');
    publishResponse(i, head);
    publishDone(result);
  }
  const events = process.cpuUsage(eventsCpu);
  const run: Run = {
    mode,
    cpuUs: (user + system) / transfers,
    eventsNs: ((events.user + events.system) * 1000) / EVENT_LOOPS,
    reqPerSec: transfers / seconds,
    published: publishedInRun,
  };
  console.log(JSON.stringify(run));
}

async function main(): Promise<void> {
  // taskset execs node, which finds the IPC channel it inherits.
  const [serverCommand, ...serverArgs] = pinned(0, [process.execPath, '--import=tsx', SELF, '--serve']);
  const server = spawn(serverCommand!, serverArgs, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) =>
    server.once('message', (m) => resolve((m as { port: number }).port)),
  );
  const url = `http://127.0.0.1:${port}/1k`;
  const runs: Run[] = [];
  try {
    for (let i = 0; i < Number(values.runs); i++) {
      for (const mode of ['off', 'on'] as const) {
        const [command, ...args] = pinned(1, [
          process.execPath,
          '--import=tsx',
          SELF,
          `--client=${mode}`,
          `--url=${url}`,
          `--transfers=${transfers}`,
          `--concurrency=${concurrency}`,
        ]);
        const out = execFileSync(command!, args, { encoding: 'utf8' });
        const run = JSON.parse(out.trim().split('\n').at(-1)!) as Run;
        console.error(JSON.stringify(run));
        runs.push(run);
      }
    }
  } finally {
    server.disconnect();
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    '| subscribers | CPU µs per transfer | req/s | messages per transfer | CPU ns to publish one transfer |',
  );
  console.log('|---|---|---|---|---|');
  for (const mode of ['off', 'on'] as const) {
    const of = runs.filter((r) => r.mode === mode);
    const label = mode === 'off' ? 'none' : 'one on every channel';
    console.log(
      `| ${label} | ${median(of.map((r) => r.cpuUs)).toFixed(1)} | ${Math.round(median(of.map((r) => r.reqPerSec)))} | ${median(of.map((r) => r.published / transfers))} | ${median(of.map((r) => r.eventsNs)).toFixed(1)} |`,
    );
  }
}
