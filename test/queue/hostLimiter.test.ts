// HostLimiter against a real redis-server: several limiters on their own connections stand in for
// the workers of a fleet (and child processes, for the real thing). Grant times come from Redis's
// clock (lease.grantedAtUs), so the delay and rate checks are exact, whatever the machine's load.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import { CurlError, type PerKeyLimits } from '../../src/index.js';
import { type HostLease, HostLimiter, type HostLimiterOptions } from '../../src/queue/HostLimiter.js';
import { useRedisServer } from '../helpers/redisServer.js';
import { delay } from '../helpers/servers.js';

const CHILD = fileURLToPath(new URL('./hostLimiterChild.ts', import.meta.url));
const URL_A = 'http://127.0.0.2:8080/a';

function connect(t: ExecutionContext, url: string): Redis {
  const redis = new Redis(url);
  t.teardown(() => redis.disconnect());
  return redis;
}

/** `n` limiters, each on its own connection: the workers of a fleet. */
async function fleet(
  t: ExecutionContext,
  n: number,
  perHost: PerKeyLimits,
  options?: HostLimiterOptions,
): Promise<{ redis: Redis; limiters: HostLimiter[] }> {
  const { url } = await useRedisServer(t);
  const connections = Array.from({ length: n + 1 }, () => connect(t, url));
  await Promise.all(connections.map((redis) => redis.ping()));
  const limiters = connections.slice(1).map((redis) => new HostLimiter(redis, 'rx', perHost, options));
  return { redis: connections[0], limiters };
}

/** Acquires `count` starts of one host, spread over the limiters, released at once; their grant times in order. */
async function grantTimes(limiters: HostLimiter[], count: number): Promise<number[]> {
  const leases = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const lease = await limiters[i % limiters.length].acquire(URL_A);
      await lease.release();
      return lease;
    }),
  );
  return leases.map((lease) => lease.grantedAtUs).sort((x, y) => x - y);
}

/** Every key under the prefix, with whatever time it has left to live (-1: none). */
async function keysLeft(redis: Redis): Promise<Map<string, number>> {
  const left = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', 'rx:*');
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      if (ttl !== -2) left.set(key, ttl);
    }
    cursor = next;
  } while (cursor !== '0');
  return left;
}

function startChild(t: ExecutionContext, spec: object): { child: ChildProcess; line: Promise<string> } {
  const child = spawn(process.execPath, ['--import=tsx', CHILD, JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}: ${stderr}`)));
  });
  return { child, line };
}

test('concurrency: never more than the limit in flight across the limiters', async (t) => {
  const { redis, limiters } = await fleet(t, 3, { concurrency: 2 }, { pollMs: 10 });
  let inFlight = 0;
  let most = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: 30 }, async (_, i) => {
      const lease = await limiters[i % 3].acquire(URL_A);
      most = Math.max(most, ++inFlight);
      t.true(inFlight <= 2, `${inFlight} in flight`);
      await delay(5 + (i % 4) * 5);
      inFlight--;
      await lease.release();
      done++;
    }),
  );
  t.is(done, 30);
  t.true(most <= 2);
  t.deepEqual(await keysLeft(redis), new Map(), 'the leases are all gone once released');
});

test('minDelayMs: grants at least the delay apart by Redis’s clock', async (t) => {
  const { limiters } = await fleet(t, 3, { minDelayMs: 30 });
  const grants = await grantTimes(limiters, 12);
  t.is(grants.length, 12);
  for (let i = 1; i < grants.length; i++)
    t.true(grants[i] - grants[i - 1] >= 30_000, `${grants[i] - grants[i - 1]} µs apart`);
});

test('minDelayMs 100: 5 starts across 3 limiters take at least 400 ms', async (t) => {
  const { limiters } = await fleet(t, 3, { minDelayMs: 100 });
  const started = performance.now();
  await grantTimes(limiters, 5);
  const took = performance.now() - started;
  t.true(took >= 400, `took ${took} ms`);
});

test('rate and burst: no window of t seconds holds more than burst + rate·t grants', async (t) => {
  const rate = 2;
  const burst = 3;
  const { limiters } = await fleet(t, 3, { ratePerSecond: rate, burst });
  const grants = await grantTimes(limiters, 8);
  t.is(grants.length, 8);
  for (let i = 0; i < grants.length; i++) {
    for (let j = i; j < grants.length; j++) {
      // (j - i + 1) <= burst + rate · window, in integers: the window is in µs.
      t.true(
        (j - i + 1 - burst) * 1_000_000 <= (grants[j] - grants[i]) * rate,
        `${j - i + 1} grants in ${grants[j] - grants[i]} µs`,
      );
    }
  }
  // The bucket starts full: the first `burst` starts come closer together than the rate alone allows.
  t.true(grants[burst - 1] - grants[0] < ((burst - 1) * 1_000_000) / rate, 'the burst went through');
});

test('a held lease is renewed: a long transfer keeps its slot beyond leaseTtlMs', async (t) => {
  // Renewed every 400 ms: only a stall of the process or of Redis over 800 ms would let it lapse.
  const { redis, limiters } = await fleet(t, 2, { concurrency: 1 }, { leaseTtlMs: 1200, pollMs: 10 });
  const first = await limiters[0].acquire(URL_A);
  const second = limiters[1].acquire(URL_A);
  await delay(3000);
  const [seconds, micros] = await redis.time();
  await first.release();
  const lease = await second;
  t.true(lease.grantedAtUs >= Number(seconds) * 1_000_000 + Number(micros), 'granted only after the release');
  await lease.release();
});

test('a killed worker’s lease lapses after leaseTtlMs, then the host is usable again', async (t) => {
  const { url } = await useRedisServer(t);
  const perHost = { concurrency: 1 };
  const options = { leaseTtlMs: 500, pollMs: 20 };
  const { child, line } = startChild(t, {
    mode: 'hold',
    redis: url,
    prefix: 'rx',
    perHost,
    options,
    url: URL_A,
  });
  const { grantedAtUs } = JSON.parse(await line) as { grantedAtUs: number };
  child.kill('SIGKILL');
  const redis = connect(t, url);
  const lease = await new HostLimiter(connect(t, url), 'rx', perHost, options).acquire(URL_A);
  t.true(lease.grantedAtUs >= grantedAtUs + 500_000, `granted ${lease.grantedAtUs - grantedAtUs} µs later`);
  await lease.release();
  t.deepEqual(await keysLeft(redis), new Map(), 'the dead lease is gone with the live one');
});

test('idle hosts leave nothing in Redis once their times have run out', async (t) => {
  // Two starts of a host leave its bucket full for 2 s after the first: long enough to see it.
  const perHost = { concurrency: 2, ratePerSecond: 1, burst: 2, minDelayMs: 200 };
  const { redis, limiters } = await fleet(t, 2, perHost, { leaseTtlMs: 300 });
  const hosts = ['http://127.0.0.2/', 'http://127.0.0.3/', 'https://example.test:8443/x'];
  const leases: HostLease[] = [];
  for (const host of hosts) leases.push(await limiters[0].acquire(host), await limiters[1].acquire(host));
  for (const lease of leases) await lease.release();
  const left = await keysLeft(redis);
  t.true(left.size > 0, 'the hosts’ start times are held for a while');
  for (const [key, ttl] of left) t.true(ttl > 0 && ttl <= 2001, `${key} lives ${ttl} ms`);
  await delay(Math.max(...left.values()) + 20);
  t.deepEqual(await keysLeft(redis), new Map());
});

test('abort rejects a waiting acquire and leaves nothing reserved', async (t) => {
  // Waiting for a free slot, then waiting out a delay.
  for (const perHost of [{ concurrency: 1 }, { minDelayMs: 10_000 }]) {
    const { redis, limiters } = await fleet(t, 2, perHost, { pollMs: 10 });
    const held = await limiters[0].acquire(URL_A);
    const state = async () =>
      new Map(
        await Promise.all(
          [...(await keysLeft(redis)).keys()].map(async (key) => [key, await redis.dump(key)] as const),
        ),
      );
    const before = await state();
    t.true(before.size > 0);
    const controller = new AbortController();
    const waiting = limiters[1].acquire(URL_A, controller.signal);
    await delay(100);
    controller.abort();
    const error = await t.throwsAsync(waiting, { instanceOf: CurlError });
    t.is(error?.code, 'ABORTED');
    t.deepEqual(await state(), before, 'the host’s state and leases are as the holder left them');
    await held.release();
    await t.throwsAsync(limiters[1].acquire(URL_A, AbortSignal.abort()), { instanceOf: CurlError });
  }
});

test('three worker processes: concurrency and delay held across them', async (t) => {
  const { url } = await useRedisServer(t);
  const perHost = { concurrency: 2, minDelayMs: 15 };
  const children = Array.from({ length: 3 }, () =>
    startChild(t, {
      mode: 'run',
      redis: url,
      prefix: 'rx',
      perHost,
      options: { pollMs: 10 },
      url: URL_A,
      count: 8,
      parallel: 3,
      holdMs: 25,
      inFlightKey: 'test:inflight',
    }),
  );
  const outcomes = await Promise.all(
    children.map(async ({ line }) => JSON.parse(await line) as { grants: number[]; maxInFlight: number }),
  );
  const grants = outcomes.flatMap((outcome) => outcome.grants).sort((x, y) => x - y);
  t.is(grants.length, 24);
  for (const { maxInFlight } of outcomes) t.true(maxInFlight <= 2, `${maxInFlight} in flight`);
  for (let i = 1; i < grants.length; i++)
    t.true(grants[i] - grants[i - 1] >= 15_000, `${grants[i] - grants[i - 1]} µs apart`);
  t.deepEqual(await keysLeft(connect(t, url)), new Map(), 'nothing left but what expires');
});
