import test from 'ava';
import { CurlError } from '../../src/index.js';
import { enqueue, jobId } from '../../src/queue/index.js';
import { useRedisServer } from '../helpers/redisServer.js';
import { sha256 } from '../helpers/servers.js';
import { useJobCounts } from './helpers.js';

test('the job id is the sha256 of the URL', (t) => {
  t.is(jobId('http://example.com/a'), sha256('http://example.com/a'));
});

test('enqueue is idempotent: a URL given twice, in one call and in another, is one job', async (t) => {
  const redis = await useRedisServer(t);
  const conn = { redis: redis.url, queue: 'idem' };
  const counts = useJobCounts(t, conn);
  const first = await enqueue(conn, ['http://h/a', 'http://h/b', { url: 'http://h/a' }], { batchSize: 2 });
  t.deepEqual(first, { submitted: 3, batches: 2 });
  await enqueue(conn, ['http://h/b', 'http://h/c']);
  t.like(await counts(), { waiting: 3 });
});

test('enqueue reads an AsyncIterable a batch at a time: each batch is in Redis before the next is read', async (t) => {
  const redis = await useRedisServer(t);
  const conn = { redis: redis.url };
  const counts = useJobCounts(t, conn);
  const seenWhileReading: number[] = [];
  async function* urls() {
    for (let i = 0; i < 2500; i++) {
      if (i === 1500 || i === 2200) seenWhileReading.push((await counts()).waiting);
      yield `http://h/${i}`;
    }
  }
  t.deepEqual(await enqueue(conn, urls(), { batchSize: 1000 }), { submitted: 2500, batches: 3 });
  t.deepEqual(seenWhileReading, [1000, 2000]);
  t.like(await counts(), { waiting: 2500 });
});

test('enqueue with a priority puts the jobs in the prioritized set', async (t) => {
  const redis = await useRedisServer(t);
  const conn = { redis: redis.url };
  const counts = useJobCounts(t, conn);
  await enqueue(conn, ['http://h/p'], { priority: 1 });
  t.like(await counts(), { prioritized: 1, waiting: 0 });
});

test('a request without a URL or a bad option is INVALID_INPUT', async (t) => {
  const redis = await useRedisServer(t);
  const conn = { redis: redis.url };
  const noUrl = await t.throwsAsync(enqueue(conn, [{ url: '' }]), { instanceOf: CurlError });
  t.is(noUrl?.code, 'INVALID_INPUT');
  const badAttempts = await t.throwsAsync(enqueue(conn, ['http://h/a'], { attempts: 0 }), {
    instanceOf: CurlError,
  });
  t.is(badAttempts?.code, 'INVALID_INPUT');
});
