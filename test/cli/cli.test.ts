// The built CLI without a terminal: one line per completed transfer, files, summary, exit codes.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { freePort, useServer } from '../helpers/servers.js';
import { runCli, tempDir } from './helpers.js';

const BIG = Buffer.alloc(300_000, 'z');

/** A small site: most paths echo their own path; a few special ones. */
async function serve(
  t: ExecutionContext,
  extra?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean,
) {
  const seen: string[] = [];
  const server = await useServer(t, (req, res) => {
    seen.push(req.url!);
    if (extra?.(req, res)) return;
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === '/missing') return void res.writeHead(404).end('not here');
    if (path === '/big.bin') return void res.writeHead(200, { 'content-length': BIG.length }).end(BIG);
    res.end(`body of ${req.url}`);
  });
  return { url: server.url, seen };
}

/** The lines of stdout before the summary. */
function completionLines(stdout: string): string[] {
  return stdout.slice(0, stdout.indexOf('summary')).split('\n').filter(Boolean).sort();
}

test('downloads every URL into files named after the path, one line per completion', async (t) => {
  const { url } = await serve(t);
  const dir = tempDir(t);
  const run = await runCli([
    '-o',
    dir,
    `${url}/a.txt`,
    `${url}/`,
    `${url}/dir/a.txt?v=2`,
    `${url}/caf%C3%A9.txt`,
    `${url}/big.bin`,
  ]);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(readdirSync(dir).sort(), ['a-1.txt', 'a.txt', 'big.bin', 'café.txt', 'index.html']);
  t.is(readFileSync(join(dir, 'a.txt'), 'utf8'), 'body of /a.txt');
  t.is(readFileSync(join(dir, 'a-1.txt'), 'utf8'), 'body of /dir/a.txt?v=2');
  t.is(readFileSync(join(dir, 'index.html'), 'utf8'), 'body of /');
  t.is(readFileSync(join(dir, 'café.txt'), 'utf8'), 'body of /caf%C3%A9.txt');
  t.true(readFileSync(join(dir, 'big.bin')).equals(BIG));
  const lines = completionLines(run.stdout);
  t.is(lines.length, 5);
  t.true(lines.every((line) => line.startsWith('ok ')));
  t.regex(run.stdout, new RegExp(`^ok big\\.bin \\(300000 bytes, \\d+ ms\\) ${url}/big\\.bin$`, 'm'));
  t.regex(run.stdout, /^ {2}transfers +5 \(5 ok, 0 failed\)$/m);
  t.regex(run.stdout, /^ {2}bytes +300067 \(293 KiB\)$/m);
  t.regex(run.stdout, /^ {2}failures +none$/m);
  t.regex(run.stdout, /^ {2}total time +p50 [\d.]+ m?s, p95 [\d.]+ m?s$/m);
  t.regex(run.stdout, /^ {2}mean rate +.+\/s per transfer, .+\/s overall/m);
});

test('failures: a line each with the curl code or HTTP status, grouped in the summary, exit 1, no files', async (t) => {
  const { url } = await serve(t);
  const dir = tempDir(t);
  const refused = `http://127.0.0.1:${await freePort()}/refused.txt`;
  const run = await runCli(['-o', dir, `${url}/ok.txt`, `${url}/missing`, refused, 'http://[bad/x']);
  t.is(run.code, 1);
  t.regex(run.stdout, new RegExp(`^failed missing HTTP 404 ${url}/missing$`, 'm'));
  t.regex(
    run.stdout,
    /^failed refused\.txt CURLE_COULDNT_CONNECT: .+ http:\/\/127\.0\.0\.1:\d+\/refused\.txt$/m,
  );
  t.regex(run.stdout, /^failed x INVALID_INPUT: .*url/m);
  t.regex(run.stdout, /^ {2}transfers +4 \(1 ok, 3 failed\)$/m);
  t.regex(run.stdout, /^ {2}failures +CURLE_COULDNT_CONNECT +1$/m);
  t.regex(run.stdout, /^ {14}HTTP 404 +1$/m);
  t.regex(run.stdout, /^ {14}INVALID_INPUT +1$/m);
  // Only the file that succeeded, and no partial file of the others.
  t.deepEqual(readdirSync(dir), ['ok.txt']);
});

test('--retry recovers from a 503; without it the 503 is a failure', async (t) => {
  let attempts = 0;
  const { url, seen } = await serve(t, (req, res) => {
    if (req.url !== '/flaky.txt') return false;
    if (++attempts % 2 === 1) res.writeHead(503, { 'retry-after': '0' }).end('busy');
    else res.end('finally');
    return true;
  });
  const dir = tempDir(t);
  const retried = await runCli(['-o', dir, '--retry', '2', `${url}/flaky.txt`]);
  t.is(retried.code, 0, retried.stdout);
  t.is(readFileSync(join(dir, 'flaky.txt'), 'utf8'), 'finally');
  t.regex(retried.stdout, /^ok flaky\.txt \(7 bytes, \d+ ms, 1 retry\)/m);
  t.regex(retried.stdout, /^ {2}retries +1$/m);
  t.deepEqual(seen, ['/flaky.txt', '/flaky.txt']);

  const other = tempDir(t);
  const once = await runCli(['-o', other, `${url}/flaky.txt`]);
  t.is(once.code, 1);
  t.regex(once.stdout, /^failed flaky\.txt HTTP 503 /m);
  t.deepEqual(readdirSync(other), []);
});

test('-i reads URLs from a file, skipping blank lines and comments', async (t) => {
  const { url, seen } = await serve(t);
  const dir = tempDir(t);
  const list = join(tempDir(t), 'urls.txt');
  writeFileSync(list, `# a list\n${url}/one\n\n   ${url}/two  \r\n# ${url}/three\n`);
  const run = await runCli(['-o', dir, '-i', list]);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(seen.sort(), ['/one', '/two']);
  t.deepEqual(readdirSync(dir).sort(), ['one', 'two']);
  t.is(readFileSync(join(dir, 'two'), 'utf8'), 'body of /two');
});

test('-i with a file that does not exist is an error', async (t) => {
  const run = await runCli(['-o', tempDir(t), '-i', '/nonexistent/urls.txt']);
  t.is(run.code, 2);
  t.regex(run.stderr, /cannot read URLs: .*ENOENT/);
});

test('URLs on standard input when there are none on the command line', async (t) => {
  const { url } = await serve(t);
  const dir = tempDir(t);
  const run = await runCli(['-o', dir], `${url}/x.txt\n${url}/y.txt\n`);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(readdirSync(dir).sort(), ['x.txt', 'y.txt']);
  t.deepEqual(
    completionLines(run.stdout).map((l) => l.split(' ').slice(0, 2).join(' ')),
    ['ok x.txt', 'ok y.txt'],
  );
});

test('-i - reads standard input after the URLs of the command line', async (t) => {
  const { url, seen } = await serve(t);
  const dir = tempDir(t);
  const run = await runCli(['-o', dir, '-j', '1', '-i', '-', `${url}/first`], `${url}/second\n`);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(seen, ['/first', '/second']);
  t.deepEqual(readdirSync(dir).sort(), ['first', 'second']);
});

test('-j limits the transfers at once', async (t) => {
  // Every response waits until two requests are in flight, so the run cannot finish below 2 at
  // once; and the largest number seen at once must not exceed -j.
  let active = 0;
  let most = 0;
  let latch = false;
  const waiting: Array<() => void> = [];
  const { url } = await serve(t, (req, res) => {
    active++;
    most = Math.max(most, active);
    const answer = () => {
      active--;
      res.end(req.url);
    };
    if (active >= 2) latch = true;
    if (latch) {
      for (const w of waiting.splice(0)) w();
      answer();
    } else waiting.push(answer);
    return true;
  });
  const dir = tempDir(t);
  const urls = ['a', 'b', 'c', 'd', 'e', 'f'].map((p) => `${url}/${p}`);
  const run = await runCli(['-o', dir, '-j', '2', ...urls]);
  t.is(run.code, 0, run.stderr);
  t.is(most, 2);
  t.is(readdirSync(dir).length, 6);
});

test('--timeout gives up on a server that does not answer', async (t) => {
  const { url } = await serve(t, (req) => req.url === '/hang');
  const dir = tempDir(t);
  const run = await runCli(['-o', dir, '--timeout', '0.3', `${url}/hang`]);
  t.is(run.code, 1);
  t.regex(run.stdout, /^failed hang CURLE_OPERATION_TIMEDOUT: /m);
  t.deepEqual(readdirSync(dir), []);
});

test('--resume continues a partial file with a range request', async (t) => {
  const body = Buffer.from('0123456789abcdefghij');
  const ranges: Array<string | undefined> = [];
  const { url } = await serve(t, (req, res) => {
    if (req.url !== '/data.bin') return false;
    ranges.push(req.headers.range);
    const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    if (from > 0) {
      res.writeHead(206, {
        'content-range': `bytes ${from}-${body.length - 1}/${body.length}`,
        'content-length': body.length - from,
      });
      res.end(body.subarray(from));
    } else res.writeHead(200, { 'content-length': body.length }).end(body);
    return true;
  });
  const dir = tempDir(t);
  writeFileSync(join(dir, '.data.bin.part'), body.subarray(0, 8));
  const run = await runCli(['-o', dir, '--resume', `${url}/data.bin`]);
  t.is(run.code, 0, run.stdout + run.stderr);
  t.deepEqual(ranges, ['bytes=8-']);
  t.deepEqual(readFileSync(join(dir, 'data.bin')), body);
  t.false(existsSync(join(dir, '.data.bin.part')));
  t.regex(run.stdout, /^ok data\.bin \(20 bytes/m);
});

test('--http2 asks for HTTP/2 (on http://, an Upgrade to h2c), without it HTTP/1.1 as is', async (t) => {
  const upgrades: Array<string | undefined> = [];
  const { url } = await serve(t, (req) => {
    upgrades.push(req.headers.upgrade);
    return false;
  });
  const dir = tempDir(t);
  t.is((await runCli(['-o', dir, '--http2', `${url}/h2`])).code, 0);
  t.is((await runCli(['-o', dir, `${url}/h1`])).code, 0);
  t.deepEqual(upgrades, ['h2c', undefined]);
  t.is(readFileSync(join(dir, 'h2'), 'utf8'), 'body of /h2');
});

test('-q prints nothing on success and only failures, on standard error', async (t) => {
  const { url } = await serve(t);
  const dir = tempDir(t);
  const run = await runCli(['-q', '-o', dir, `${url}/fine`, `${url}/missing`]);
  t.is(run.code, 1);
  t.is(run.stdout, '');
  t.regex(run.stderr, /^failed missing HTTP 404 /m);
  t.notRegex(run.stderr, /fine/);
});

test('usage errors exit 2 and print the usage', async (t) => {
  for (const args of [
    ['-j', '0', 'http://x/'],
    ['--bogus', 'http://x/'],
    ['--timeout', 'soon', 'http://x/'],
  ]) {
    const run = await runCli(args);
    t.is(run.code, 2, args.join(' '));
    t.regex(run.stderr, /^rxcurl: .+\n\nUsage: rxcurl/, args.join(' '));
    t.is(run.stdout, '');
  }
});

test('--help and --version', async (t) => {
  const help = await runCli(['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /^Usage: rxcurl \[options\] URL\.\.\./);
  for (const option of [
    '-j',
    '--max-per-host',
    '--rate-per-host',
    '--delay-per-host',
    '-o',
    '-i',
    '--retry',
    '--resume',
    '--http2',
    '--timeout',
    '-q',
  ]) {
    t.true(help.stdout.includes(option), option);
  }
  const version = await runCli(['-V']);
  t.is(version.code, 0);
  t.regex(version.stdout, /^rxcurl \d+\.\d+\.\d+\S* libcurl \d+\.\d+\.\d+/);
});
