// Every demo runs offline against the server it starts itself; each must say what it is about.
import anyTest from 'ava';
import { start } from './helpers.js';

// One at a time: each starts tsx, which is slow on a busy machine.
const test = anyTest.serial;

function runDemo(file: string, ...args: string[]) {
  return start(process.execPath, ['--import', 'tsx', `demos/${file}`, ...args]).done;
}

test('download-pipeline: filters the list, retries the 503s, verifies checksums and catches the corrupted file', async (t) => {
  const run = await runDemo('download-pipeline.ts');
  t.is(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n');
  t.true(lines.includes('skip     huge.iso (524288 bytes > 65536)'));
  t.true(lines.some((l) => /^verified readme\.txt \(30 bytes, sha256 [0-9a-f]{16}…\)$/.test(l)));
  t.true(lines.some((l) => /^verified data\.csv \(\d+ bytes/.test(l)));
  t.true(lines.some((l) => /^MISMATCH image\.raw \(49152 bytes/.test(l)));
  t.is(lines.filter((l) => /^(verified|MISMATCH) /.test(l)).length, 3);
  t.regex(run.stdout, /^2 verified, 1 checksum mismatch, 2 retries$/m);
});

test('crawler: same host only, within the depth limit, each page once, politely: at most 3 at once on the host, starts 25 ms apart', async (t) => {
  const run = await runDemo('crawler.ts');
  t.is(run.code, 0, run.stderr);
  const pages = [...run.stdout.matchAll(/^depth (\d) {2}(\d+) {2}(\S+)/gm)].map(
    (m) => `${m[1]} ${m[2]} ${m[3]}`,
  );
  t.deepEqual(pages.sort(), [
    '0 200 /',
    '1 200 /about',
    '1 200 /blog/',
    '1 200 /docs/',
    '1 404 /missing',
    '2 200 /blog/2026/hello',
    '2 200 /docs/api',
    '2 200 /docs/install',
  ]);
  const summary =
    /^crawled (\d+) pages to depth 2 in (\d+) ms, at most (\d+) at once \(limit 3 per host, starts 25 ms apart\)/m.exec(
      run.stdout,
    );
  t.truthy(summary, run.stdout);
  const [crawled, ms, most] = summary!.slice(1).map(Number);
  t.is(crawled, 8);
  // Counted by the server, which never sees more than the crawler runs.
  t.true(most >= 1 && most <= 3);
  // Eight starts on one host, each at least 25 ms after the one before.
  t.true(ms >= 7 * 25, `${ms} ms`);
  t.notRegex(run.stdout, /elsewhere|deep\/end/);
});

test('marble-test: every scenario holds', async (t) => {
  const run = await runDemo('marble-test.ts');
  t.is(run.code, 0, run.stdout);
  t.is(run.stdout.match(/^✓ /gm)?.length, 4);
  t.notRegex(run.stdout, /^✗/m);
  t.regex(run.stdout, /^all scenarios hold$/m);
  t.regex(run.stdout, /'6030ms \(a\|\)' {2}\{"a":"AAA:CURLE_OPERATION_TIMEDOUT"\}/);
});

test('progress: a rising bar for a known size, then one for an unknown size', async (t) => {
  const run = await runDemo('progress.ts');
  t.is(run.code, 0, run.stderr);
  const known = [...run.stdout.matchAll(/^file\.bin +\[[#.]{30}\] +(\d+)% {2}(\d+) KiB \/ 1024 KiB/gm)];
  t.true(known.length >= 2, run.stdout);
  const percents = known.map((m) => Number(m[1]));
  t.deepEqual(
    percents,
    [...percents].sort((a, b) => a - b),
  );
  t.is(percents.at(-1), 100);
  t.regex(run.stdout, /^stream +\[\?{30}\] +\? {2}\d+ KiB/m);
  t.regex(run.stdout, /^done$/m);
});

test('cli-server --run: the CLI downloads the demo files and reports the missing one', async (t) => {
  const run = await runDemo('cli-server.ts', '--run');
  t.is(run.code, 1, run.stderr);
  t.regex(run.stdout, /^ok file-6\.bin \(1572864 bytes/m);
  t.regex(run.stdout, /^ok flaky\.txt \(17 bytes, \d+ ms, 1 retry\)/m);
  t.regex(run.stdout, /^failed missing HTTP 404 /m);
  t.regex(run.stdout, /^ {2}transfers +8 \(7 ok, 1 failed\)$/m);
});

test('hiperfifo (npm run demo): every URL fed in is reported, then it exits', async (t) => {
  const run = await runDemo('run-hiperfifo.ts');
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout.match(/^NEW /gm)?.length, 9);
  t.regex(run.stdout, /^DONE http:\/\/127\.0\.0\.1:\d+\/missing => 404/m);
  t.regex(run.stdout, /^input closed, nothing running: \d+ bytes received$/m);
});
