// A worker process of the HostLimiter tests, with its own Redis connection.
// `run`: `count` acquisitions, `parallel` at a time, each held `holdMs` and counted in flight in
// Redis (`inFlightKey`) across all processes; prints { grants, maxInFlight }.
// `hold`: one acquisition, prints { grantedAtUs }, then holds it until killed.
import { Redis } from 'ioredis';
import type { PerKeyLimits } from '../../src/index.js';
import { HostLimiter, type HostLimiterOptions } from '../../src/queue/HostLimiter.js';

interface ChildSpec {
  mode: 'run' | 'hold';
  redis: string;
  prefix: string;
  perHost: PerKeyLimits;
  options: HostLimiterOptions;
  url: string;
  count: number;
  parallel: number;
  holdMs: number;
  inFlightKey: string;
}

const spec = JSON.parse(process.argv[2]) as ChildSpec;
const redis = new Redis(spec.redis);
const limiter = new HostLimiter(redis, spec.prefix, spec.perHost, spec.options);

if (spec.mode === 'hold') {
  const lease = await limiter.acquire(spec.url);
  process.stdout.write(`${JSON.stringify({ grantedAtUs: lease.grantedAtUs })}\n`);
  setInterval(() => {}, 60_000);
} else {
  const grants: number[] = [];
  let maxInFlight = 0;
  let left = spec.count;
  const loop = async () => {
    while (left > 0) {
      left--;
      const lease = await limiter.acquire(spec.url);
      grants.push(lease.grantedAtUs);
      maxInFlight = Math.max(maxInFlight, await redis.incr(spec.inFlightKey));
      await new Promise((resolve) => setTimeout(resolve, spec.holdMs));
      await redis.decr(spec.inFlightKey);
      await lease.release();
    }
  };
  await Promise.all(Array.from({ length: spec.parallel }, loop));
  process.stdout.write(`${JSON.stringify({ grants, maxInFlight })}\n`);
  redis.disconnect();
}
