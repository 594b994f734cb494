import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import test, { type ExecutionContext } from 'ava';

// Runs the built package (npm test builds dist/ first) in a child process where importing koffi throws.
const dist = new URL('../../dist/', import.meta.url);
const scratch = fileURLToPath(new URL('../../node_modules/.cache/rxcurl-tests/', import.meta.url));

function runWithoutKoffi(t: ExecutionContext, script: string) {
  // Inside the project, so that the script resolves rxjs from its node_modules.
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'no-koffi-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {
      if (specifier === 'koffi' || specifier.startsWith('koffi/')) throw new Error('koffi may not be loaded here');
      return next(specifier, context);
    }`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});`,
  );
  const main = join(dir, 'main.mjs');
  writeFileSync(main, script);
  return spawnSync(process.execPath, ['--import', pathToFileURL(register).href, main], {
    encoding: 'utf8',
    timeout: 30_000,
  });
}

test('rxcurl/testing imports and runs a marble test where koffi cannot be loaded', (t) => {
  const child = runWithoutKoffi(
    t,
    `import assert from 'node:assert/strict';
    import { catchError, map, of } from 'rxjs';
    import { TestScheduler } from 'rxjs/testing';
    import { createTestCurl, CURLE } from ${JSON.stringify(new URL('testing/index.js', dist).href)};
    const scheduler = new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
    scheduler.run(({ cold, expectObservable }) => {
      const curl = createTestCurl({ scheduler });
      curl.route('GET http://example.test/a', cold('--r|', { r: { status: 200, body: 'hi' } }));
      curl.route('GET http://example.test/slow', cold('--r|', { r: { error: CURLE.OPERATION_TIMEDOUT } }));
      expectObservable(curl.request('http://example.test/a').pipe(map((r) => r.text()))).toBe('--(a|)', { a: 'hi' });
      const failed$ = curl.request('http://example.test/slow').pipe(map((r) => r.status), catchError((e) => of(e.codeName)));
      expectObservable(failed$).toBe('--(e|)', { e: 'CURLE_OPERATION_TIMEDOUT' });
    });
    console.log('marble test passed');`,
  );
  t.is(child.status, 0, child.stderr);
  t.regex(child.stdout, /marble test passed/);
});

test('the hook is real: the main entry, which wires libcurl in, fails to import there', (t) => {
  const child = runWithoutKoffi(t, `await import(${JSON.stringify(new URL('index.js', dist).href)});`);
  t.not(child.status, 0);
  t.regex(child.stderr, /koffi may not be loaded here/);
});
