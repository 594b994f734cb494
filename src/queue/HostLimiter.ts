import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CurlError } from '../errors/CurlError.js';
import { originKey } from '../scheduling/originKey.js';
import { type PerKeyLimits, queuePolicy } from '../scheduling/TransferQueueOptions.js';
import { ACQUIRE_START_LUA, RENEW_LEASE_LUA } from './hostLimiterLua.js';

/**
 * Options of `new HostLimiter()`.
 *
 * @example
 * ```ts
 * const options: HostLimiterOptions = { leaseTtlMs: 10_000, pollMs: 50 };
 * ```
 */
export interface HostLimiterOptions {
  /**
   * How long a start holds its concurrency slot without a sign of life from its worker (renewed
   * every third of it while held): a killed worker's slots free after at most this; default 30,000 ms.
   */
  leaseTtlMs?: number;
  /** How often a waiter for a host whose slots are all taken by other workers asks again; default 100 ms. */
  pollMs?: number;
}

/**
 * One start granted by a {@link HostLimiter}.
 *
 * @example
 * ```ts
 * const lease: HostLease = await limiter.acquire('https://example.com/a');
 * try {
 *   await transfer();
 * } finally {
 *   await lease.release();
 * }
 * ```
 */
export interface HostLease {
  /** The host's key: the origin of the URL. */
  readonly key: string;
  /** Redis's clock when the start was granted, in microseconds since the epoch (an integer). */
  readonly grantedAtUs: number;
  /** Gives the slot back to the host: one round trip with a concurrency limit, none without. Idempotent. */
  release(): Promise<void>;
}

interface LimiterCommands {
  rxcurlAcquireStart(...args: (string | number)[]): Promise<[number, number]>;
  rxcurlRenewLease(leasesKey: string, leaseId: string, ttlUs: number): Promise<number>;
}

/**
 * Per-host limits — `perHost` of a `TransferQueue` — held in Redis for a whole fleet of workers:
 * every start of a transfer to a host (its origin) first asks Redis, with one atomic Lua script
 * on Redis's clock, whether the host's limits allow it now, and records it if so.
 *
 * What it guarantees, for the workers that share a Redis, a prefix and the same `perHost`:
 * - at most `concurrency` starts of a host hold a slot at once (released or not yet), except
 *   when a worker gives no sign of life for `leaseTtlMs` (killed, stalled, cut off from Redis):
 *   its slots then lapse and no longer count;
 * - two starts of a host are at least `minDelayMs` apart by Redis's clock;
 * - in any window of `t` seconds a host has at most `burst + ratePerSecond · t` starts (a
 *   generic cell rate algorithm with tolerance `(burst - 1) / ratePerSecond`);
 * - an idle host leaves nothing in Redis once its delay, its bucket and its leases have run out.
 *
 * What it does not promise: fairness between workers waiting for the same host (whoever asks
 * first after a slot frees gets it). An acquire aborted while its grant is on the wire releases the
 * slot but leaves that start counted against the rate and the delay, which only errs on the slow side.
 *
 * Costs: one Redis round trip per start, one per release with a concurrency limit, one per
 * third of `leaseTtlMs` per held slot; a waiter sleeps the time Redis answers and asks again
 * (woken at once by a release in its own limiter, else every `pollMs` while slots are full).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const limiter = new HostLimiter(new Redis('redis://127.0.0.1:6379'), 'rxcurl', { concurrency: 2, minDelayMs: 500 });
 * const lease = await limiter.acquire('https://example.com/file', AbortSignal.timeout(60_000));
 * try {
 *   await curl.download({ url: 'https://example.com/file' }, '/data/file');
 * } finally {
 *   await lease.release();
 * }
 * ```
 */
export class HostLimiter {
  private readonly commands: LimiterCommands;
  /** Script arguments, in microseconds: interval, tolerance, minimum delay, lease TTL, poll; concurrency. */
  private readonly args: number[];
  private readonly leaseTtlMs: number;
  private readonly limited: boolean;
  /** Waiters of each host, woken when this limiter releases a slot of the host. */
  private readonly sleepers = new Map<string, Set<() => void>>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    perHost: PerKeyLimits,
    options: HostLimiterOptions = {},
  ) {
    const limits = queuePolicy({ perHost }).perKey;
    this.leaseTtlMs = positive('leaseTtlMs', options.leaseTtlMs ?? 30_000);
    const pollMs = positive('pollMs', options.pollMs ?? 100);
    this.limited = Number.isFinite(limits.concurrency);
    // Rounded up to whole microseconds: a little slower, never faster, than asked.
    const interval = Math.ceil(limits.interval * 1000);
    this.args = [
      interval,
      ((perHost.burst ?? 1) - 1) * interval,
      Math.ceil(limits.minDelayMs * 1000),
      Math.ceil(this.leaseTtlMs * 1000),
      Math.ceil(pollMs * 1000),
      this.limited ? limits.concurrency : 0,
    ];
    redis.defineCommand('rxcurlAcquireStart', { numberOfKeys: 2, lua: ACQUIRE_START_LUA });
    redis.defineCommand('rxcurlRenewLease', { numberOfKeys: 1, lua: RENEW_LEASE_LUA });
    this.commands = redis as unknown as LimiterCommands;
  }

  /**
   * Resolves with a lease once the limits of the URL's host allow a start; until then sleeps for
   * as long as Redis answers and asks again. Rejects with a CurlError 'ABORTED' when `signal`
   * aborts, holding nothing.
   */
  async acquire(url: string, signal?: AbortSignal): Promise<HostLease> {
    const key = originKey(url);
    const startKey = `${this.prefix}:host:{${key}}:start`;
    const leasesKey = `${this.prefix}:host:{${key}}:leases`;
    const leaseId = randomUUID();
    for (;;) {
      if (signal?.aborted) throw aborted(url);
      const [granted, value] = await this.commands.rxcurlAcquireStart(
        startKey,
        leasesKey,
        ...this.args,
        leaseId,
      );
      if (granted === 1) {
        const lease = this.lease(key, leasesKey, leaseId, value);
        if (signal?.aborted) {
          await lease.release();
          throw aborted(url);
        }
        return lease;
      }
      await this.sleep(key, Math.max(1, Math.ceil(value / 1000)), url, signal);
    }
  }

  private lease(key: string, leasesKey: string, leaseId: string, grantedAtUs: number): HostLease {
    if (!this.limited) return { key, grantedAtUs, release: async () => {} };
    const ttlUs = this.args[3];
    const renewal = setInterval(() => {
      this.commands.rxcurlRenewLease(leasesKey, leaseId, ttlUs).then(
        (renewed) => {
          if (renewed === 0) clearInterval(renewal);
        },
        // Tried again at the next tick; none succeeding within the TTL is the documented lapse.
        () => {},
      );
    }, this.leaseTtlMs / 3);
    renewal.unref();
    let released: Promise<void> | undefined;
    return {
      key,
      grantedAtUs,
      release: () => {
        released ??= (async () => {
          clearInterval(renewal);
          await this.redis.zrem(leasesKey, leaseId);
          for (const wake of this.sleepers.get(key) ?? []) wake();
        })();
        return released;
      },
    };
  }

  /** Waits `ms`, or less if this limiter releases a slot of `key` meanwhile; rejects on abort. */
  private sleep(key: string, ms: number, url: string, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(aborted(url));
      let sleepers = this.sleepers.get(key);
      if (sleepers === undefined) this.sleepers.set(key, (sleepers = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        sleepers.delete(wake);
        if (sleepers.size === 0 && this.sleepers.get(key) === sleepers) this.sleepers.delete(key);
      };
      const wake = () => {
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        reject(aborted(url));
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function aborted(url: string): CurlError {
  return new CurlError('ABORTED', 'HostLimiter: acquire aborted', url);
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0))
    throw new CurlError('INVALID_INPUT', `HostLimiter: ${name} must be a number > 0, got ${value}`, '');
  return value;
}
