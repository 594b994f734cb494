// The built CLI in a pseudo-terminal (util-linux `script`): live bars drawn with cursor control.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { useServer, waitFor } from '../helpers/servers.js';
import { startCliInTty, tempDir } from './helpers.js';

const SIZE = 100_000;

test('on a terminal: one bar per active transfer with name, bytes, rate and ETA, a totals line, then the summary', async (t) => {
  // /big.bin sends its first half, then waits until the test has seen its bar; /small.txt answers at once.
  let release: (() => void) | undefined;
  const server = await useServer(t, (req, res) => {
    if (req.url === '/small.txt') return void res.end('small');
    res.writeHead(200, { 'content-length': SIZE });
    res.write(Buffer.alloc(SIZE / 2, 'a'));
    release = () => res.end(Buffer.alloc(SIZE / 2, 'b'));
  });
  const dir = tempDir(t);
  const cli = startCliInTty(['-o', dir, `${server.url}/big.bin`, `${server.url}/small.txt`]);
  t.teardown(() => cli.child.kill('SIGKILL'));

  // A bar for big.bin at 50%: name, bar, percentage, bytes, rate, ETA.
  const bar = /big\.bin +[█░]{20} +50% 49 KiB\/98 KiB · [\d.]+ [KM]?i?B\/s · ETA \S+/;
  await waitFor(() => bar.test(cli.stdout()), 'the bar of big.bin', 20_000);
  release!();
  const run = await cli.done;

  t.is(run.code, 0, run.stdout);
  const out = run.stdout;
  t.true(out.includes('\x1b[?25l'), 'hides the cursor');
  t.true(out.includes('\x1b[?25h'), 'shows the cursor again');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape sequences are what is tested
  t.regex(out, /\x1b\[\d*[AG]/, 'moves the cursor to redraw');
  t.regex(out, /total +\d\/2 done · \d active/);
  t.regex(out, /ok small\.txt \(5 bytes/);
  t.regex(out, /ok big\.bin \(100000 bytes/);
  t.regex(out, /total +2\/2 done · 0 active/);
  t.regex(out, /summary\r?\n {2}transfers +2 \(2 ok, 0 failed\)/);
  t.is(readFileSync(join(dir, 'big.bin'), 'latin1'), 'a'.repeat(SIZE / 2) + 'b'.repeat(SIZE / 2));
});

test('on a terminal with -q: no bars', async (t) => {
  const server = await useServer(t, (_req, res) => res.end('x'));
  const dir = tempDir(t);
  const run = await startCliInTty(['-q', '-o', dir, `${server.url}/x`]).done;
  t.is(run.code, 0);
  t.false(run.stdout.includes('\x1b['));
  t.is(run.stdout.trim(), '');
});
