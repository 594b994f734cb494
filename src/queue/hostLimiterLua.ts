// The Lua scripts of HostLimiter. Each runs atomically in Redis and reads Redis's own clock, so
// the workers' clocks never matter. All times are integer microseconds (kept exact: Lua's
// tostring would round a 16-digit number, hence string.format('%.0f')).

/**
 * Checks and, when the host's limits allow, records one start.
 * KEYS: [1] the host's start state (a hash: `tat`, the generic cell rate algorithm's theoretical
 * time of the next start; `next`, the last start plus the minimum delay), [2] its leases (a sorted
 * set of lease ids scored by their expiry).
 * ARGV: interval, tolerance, minimum delay, lease TTL, longest wait for a free slot (µs);
 * concurrency (0: unlimited); the lease id.
 * Returns {1, the start's time} when granted, {0, µs to wait} otherwise.
 */
export const ACQUIRE_START_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local minDelay = tonumber(ARGV[3])
local leaseTtl = tonumber(ARGV[4])
local poll = tonumber(ARGV[5])
local concurrency = tonumber(ARGV[6])
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or now)
local nextStart = tonumber(redis.call('HGET', KEYS[1], 'next') or now)
local earliest = math.max(nextStart, tat - tolerance)
if earliest > now then return {0, earliest - now} end
if concurrency > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= concurrency then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {0, math.min(poll, tonumber(first[2]) - now)}
  end
  redis.call('ZADD', KEYS[2], string.format('%.0f', now + leaseTtl), ARGV[7])
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[2], math.ceil((tonumber(last[2]) - now) / 1000))
end
if interval > 0 or minDelay > 0 then
  if interval > 0 then
    tat = math.max(tat, now) + interval
    redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat))
  end
  if minDelay > 0 then
    nextStart = now + minDelay
    redis.call('HSET', KEYS[1], 'next', string.format('%.0f', nextStart))
  end
  -- Once both times are past, the state means nothing more than an absent key.
  redis.call('PEXPIRE', KEYS[1], math.ceil((math.max(tat, nextStart) - now) / 1000) + 1)
end
return {1, now}
`;

/**
 * Pushes a live lease's expiry to now + TTL. A lease that already lapsed is not brought back: its
 * slot may have been granted again.
 * KEYS: [1] the host's leases. ARGV: the lease id, the lease TTL (µs). Returns 1 if renewed, else 0.
 */
export const RENEW_LEASE_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local expiry = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or 0)
if expiry <= now then return 0 end
redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[2])), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(last[2]) - now) / 1000))
return 1
`;
