// Per-host limits across a fleet: three workers, each with its own Curl, Redis connection and
// HostLimiter, share five hosts (127.0.0.2 … 127.0.0.6 on one server) with a minimum delay per host.
// What the server sees is held to it; only lower bounds, with room for transit jitter.
import test from 'ava';
import { enqueue, runWorker } from '../../src/queue/index.js';
import { useRedisServer } from '../helpers/redisServer.js';
import { useMultiHostServer, useTempDir } from '../helpers/servers.js';
import { until, useJobCounts } from './helpers.js';

const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
const PER_HOST = 6;
const MIN_DELAY_MS = 200;

test('a per-host minimum delay holds across three workers: the server sees each host paced', async (t) => {
  const redis = await useRedisServer(t);
  const conn = { redis: redis.url, queue: 'perhost' };
  const arrivals = new Map<string, number[]>();
  const server = await useMultiHostServer(t, HOSTS, (req, res) => {
    const host = req.socket.localAddress ?? '';
    arrivals.set(host, [...(arrivals.get(host) ?? []), performance.now()]);
    res.end(`file ${req.url}`);
  });
  const urls = server.urls.flatMap((base) => Array.from({ length: PER_HOST }, (_, i) => `${base}/f${i}`));
  await enqueue(conn, urls);
  const counts = useJobCounts(t, conn);
  for (let w = 0; w < 3; w++) {
    const worker = runWorker({
      ...conn,
      dir: useTempDir(t),
      concurrency: 4,
      perHost: { minDelayMs: MIN_DELAY_MS },
    });
    t.teardown(() => worker.close());
  }
  await until(async () => (await counts()).completed === urls.length, 'every job completed', 60_000);

  t.is(arrivals.size, HOSTS.length);
  for (const [host, times] of arrivals) {
    t.is(times.length, PER_HOST, `${host} served each of its URLs once`);
    const gaps = times.slice(1).map((time, i) => time - times[i]);
    // Starts are MIN_DELAY_MS apart by Redis's clock; transit may shift one arrival a little.
    for (const gap of gaps)
      t.true(gap >= MIN_DELAY_MS / 2, `${host}: two requests ${gap.toFixed(0)} ms apart`);
    const span = times[times.length - 1] - times[0];
    t.true(
      span >= (PER_HOST - 2) * MIN_DELAY_MS,
      `${host}: ${PER_HOST} requests within ${span.toFixed(0)} ms`,
    );
  }
});
