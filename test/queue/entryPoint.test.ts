import { spawnSync } from 'node:child_process';
import test from 'ava';

// Runs the built package (npm test builds dist/ first) in a child process whose resolver throws on
// bullmq and ioredis: a hook registered from a data: URL, before the script's first import.
const dist = new URL('../../dist/', import.meta.url);
const hook = `export async function resolve(specifier, context, next) {
  if (/^(bullmq|ioredis)(\\/|$)/.test(specifier)) throw new Error('queue dependency loaded: ' + specifier);
  return next(specifier, context);
}`;
const register = `import { register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;

function importWithoutQueueDependencies(entry: string) {
  return spawnSync(
    process.execPath,
    [
      '--import',
      `data:text/javascript,${encodeURIComponent(register)}`,
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
