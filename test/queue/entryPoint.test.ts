import { spawnSync } from 'node:child_process';
import test from 'ava';
import { WITHOUT_QUEUE_DEPENDENCIES } from '../helpers/withoutQueueDependencies.js';

// Runs the built package (npm test builds dist/ first) in a child process whose resolver throws on
// bullmq and ioredis.
const dist = new URL('../../dist/', import.meta.url);
function importWithoutQueueDependencies(entry: string) {
  return spawnSync(
    process.execPath,
    [
      ...WITHOUT_QUEUE_DEPENDENCIES,
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(new URL(entry, dist).href)}); console.log(Object.keys(m).length + ' exports');`,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
}

test('importing rxcurl never loads bullmq or ioredis', (t) => {
  const child = importWithoutQueueDependencies('index.js');
  t.is(child.status, 0, child.stderr);
  t.regex(child.stdout, /\d+ exports/);
});

test('the hook is real: rxcurl/queue, which needs them, fails to import there', (t) => {
  const child = importWithoutQueueDependencies('queue/index.js');
  t.not(child.status, 0);
  t.regex(child.stderr, /queue dependency loaded: (bullmq|ioredis)/);
});
