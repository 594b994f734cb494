// A redis-server for one test, from the system's package: a free loopback port, a temporary
// folder, no persistence, `noeviction` (as BullMQ requires), stopped when the test ends.
import type { ExecutionContext } from 'ava';
import { findProgram, startDaemon } from './daemon.js';
import { useTempDir } from './servers.js';

/** redis-server's path, or undefined when it is not installed (`.ci/run` installs it). */
export const REDIS_SERVER = findProgram('/usr/bin/redis-server', '/usr/local/bin/redis-server');

export interface TestRedis {
  /** 'redis://127.0.0.1:<port>'. */
  url: string;
  port: number;
}

export async function useRedisServer(t: ExecutionContext): Promise<TestRedis> {
  if (REDIS_SERVER === undefined)
    throw new Error('redis-server is not installed (apt-get install redis-server)');
  const dir = useTempDir(t, 'rxcurl-redis-');
  const redis = await startDaemon(t, REDIS_SERVER, (port) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
    '--protected-mode',
    'no',
    '--dir',
    dir,
  ]);
  return { url: `redis://127.0.0.1:${redis.port}`, port: redis.port };
}
