/**
 * `npx tsx bench/hostLimiter.ts [seconds]`: what HostLimiter costs against a local redis-server
 * (started here on a free loopback port, no persistence): starts per second, one after another on
 * one connection (the latency of a start) and from many callers over several connections (what
 * one Redis takes), beside a bare PING for the round trip itself. The limits never bind: what is
 * measured is the mechanism. Prints a markdown table.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { Redis } from 'ioredis';
import { HostLimiter } from '../src/queue/HostLimiter.js';
import type { PerKeyLimits } from '../src/scheduling/TransferQueueOptions.js';
import { freePort } from './freePort.js';

const SECONDS = Number(process.argv[2] ?? 3);

/** Runs `step` from `callers` loops for SECONDS; steps per second. */
async function rate(callers: number, step: (caller: number) => Promise<void>): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let steps = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      while (performance.now() < end) {
        await step(caller);
        steps++;
      }
    }),
  );
  return steps / ((performance.now() - started) / 1000);
}

const port = await freePort();
const server = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  {
    stdio: 'ignore',
  },
);
for (;;) {
  const socket = net.connect(port, '127.0.0.1');
  const [event] = await Promise.race([once(socket, 'connect').then(() => ['up']), once(socket, 'error')]);
  socket.destroy();
  if (event === 'up') break;
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const connections = Array.from({ length: 4 }, () => new Redis({ port, host: '127.0.0.1' }));
await Promise.all(connections.map((redis) => redis.ping()));

const rows: [string, number][] = [];
const measure = async (name: string, callers: number, step: (caller: number) => Promise<void>) => {
  await rate(callers, step); // warm-up: scripts loaded, JIT
  rows.push([name, await rate(callers, step)]);
};
const limiterWith = (perHost: PerKeyLimits) =>
  connections.map((redis) => new HostLimiter(redis, 'bench', perHost));
const withLeases = limiterWith({ concurrency: 1_000_000 });
const withoutLeases = limiterWith({ ratePerSecond: 1e9, burst: 1_000_000, minDelayMs: 0 });
const hostOf = (caller: number) => `http://host-${caller % 100}.example/`;

await measure('PING, 1 caller', 1, async () => {
  await connections[0].ping();
});
await measure('acquire (rate, no concurrency limit), 1 caller', 1, async () => {
  await withoutLeases[0].acquire(hostOf(0));
});
await measure('acquire + release (concurrency limit), 1 caller', 1, async () => {
  await (await withLeases[0].acquire(hostOf(0))).release();
});
await measure('PING, 64 callers on 4 connections', 64, async (caller) => {
  await connections[caller % 4].ping();
});
await measure('acquire + release, 64 callers on 4 connections, 100 hosts', 64, async (caller) => {
  await (await withLeases[caller % 4].acquire(hostOf(caller))).release();
});
await measure('acquire + release, 64 callers on 4 connections, 1 host', 64, async (caller) => {
  await (await withLeases[caller % 4].acquire(hostOf(0))).release();
});

console.log(`| HostLimiter, ${SECONDS} s each | per second | µs each |`);
console.log('|---|---:|---:|');
for (const [name, perSecond] of rows)
  console.log(
    `| ${name} | ${Math.round(perSecond).toLocaleString('en')} | ${(1e6 / perSecond).toFixed(1)} |`,
  );
// Redis's own time in the scripts, apart from the client's and the network's.
const stats = (await connections[0].info('commandstats')).match(
  /cmdstat_evalsha:calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/,
);
if (stats)
  console.log(`\nInside Redis: ${stats[2]} µs per script call (${stats[1]} calls, acquire and renew).`);
for (const redis of connections) redis.disconnect();
server.kill();
