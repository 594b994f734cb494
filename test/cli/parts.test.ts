// The CLI's pure parts: argument parsing, file names, the summary.
import test from 'ava';
import { parseCliArgs, UsageError } from '../../src/cli/args.js';
import { FileNamer, fileNameFromUrl } from '../../src/cli/names.js';
import { percentile, Summary } from '../../src/cli/summary.js';
import { formatBytes, formatEta } from '../../src/cli/units.js';

test('parseCliArgs: defaults, short and long options', (t) => {
  t.like(parseCliArgs(['http://a/']), {
    urls: ['http://a/'],
    jobs: 8,
    outDir: '.',
    retry: 0,
    resume: false,
    http2: false,
    timeoutMs: undefined,
    quiet: false,
  });
  t.like(
    parseCliArgs([
      '-j',
      '3',
      '-o',
      'out',
      '--retry',
      '2',
      '--resume',
      '--http2',
      '--timeout',
      '1.5',
      '-q',
      'u1',
      'u2',
    ]),
    {
      urls: ['u1', 'u2'],
      jobs: 3,
      outDir: 'out',
      retry: 2,
      resume: true,
      http2: true,
      timeoutMs: 1500,
      quiet: true,
    },
  );
  t.like(parseCliArgs(['-i', 'list.txt']), { urls: [], inputFile: 'list.txt' });
  t.like(parseCliArgs(['--jobs=4', '--output=x']), { jobs: 4, outDir: 'x' });
  t.like(parseCliArgs(['u']), { maxPerHost: undefined, ratePerHost: undefined, delayPerHostMs: undefined });
  t.like(parseCliArgs(['--max-per-host', '2', '--rate-per-host', '0.5', '--delay-per-host', '0', 'u']), {
    maxPerHost: 2,
    ratePerHost: 0.5,
    delayPerHostMs: 0,
  });
});

test('parseCliArgs: bad values are usage errors', (t) => {
  for (const args of [
    ['-j', '0'],
    ['-j', 'two'],
    ['--retry', '-1'],
    ['--timeout', '0'],
    ['--timeout', ''],
    ['-x'],
    ['-o'],
    ['--max-per-host', '0'],
    ['--rate-per-host', '0'],
    ['--rate-per-host', 'Infinity'],
    ['--delay-per-host', '1.5'],
  ]) {
    t.throws(() => parseCliArgs(args), { instanceOf: UsageError }, args.join(' '));
  }
});

test('fileNameFromUrl: the last path segment, decoded and made safe', (t) => {
  t.is(fileNameFromUrl('http://h/a/b/file.tar.gz?x=1#f'), 'file.tar.gz');
  t.is(fileNameFromUrl('http://h/'), 'index.html');
  t.is(fileNameFromUrl('http://h'), 'index.html');
  t.is(fileNameFromUrl('http://h/dir/'), 'index.html');
  t.is(fileNameFromUrl('http://h/caf%C3%A9'), 'café');
  t.is(fileNameFromUrl('http://h/a%2Fb'), 'a_b');
  t.is(fileNameFromUrl('http://h/..%2F..%2Fetc%2Fpasswd'), '_.._etc_passwd');
  t.is(fileNameFromUrl('http://h/.hidden'), 'hidden');
  t.is(fileNameFromUrl('http://h/%2e%2e'), 'index.html');
  t.is(fileNameFromUrl('http://h/bad%zz'), 'bad%zz');
  t.is(fileNameFromUrl('not a url/x.txt?q'), 'x.txt');
});

test('FileNamer: a numeric suffix before the extension on collisions', (t) => {
  const namer = new FileNamer();
  t.deepEqual(
    [
      'http://a/x.txt',
      'http://b/x.txt',
      'http://c/x.txt',
      'http://a/x-1.txt',
      'http://a/',
      'http://b/',
      'http://a/README',
    ].map((u) => namer.next(u)),
    ['x.txt', 'x-1.txt', 'x-2.txt', 'x-1-1.txt', 'index.html', 'index-1.html', 'README'],
  );
});

test('FileNamer: names taken before count case-insensitively, also when a suffix was given in the URL', (t) => {
  const namer = new FileNamer();
  t.deepEqual(
    ['http://a/a-2.txt', 'http://a/A.txt', 'http://b/a.txt', 'http://c/a.txt', 'http://d/a.txt'].map((u) =>
      namer.next(u),
    ),
    ['a-2.txt', 'A.txt', 'a-1.txt', 'a-3.txt', 'a-4.txt'],
  );
});

test('FileNamer: deterministic over many names and long runs of one name, through the growth of its table', (t) => {
  const names = (namer: FileNamer) =>
    Array.from({ length: 20_000 }, (_, i) =>
      namer.next(i % 2 ? `http://h/f${i}.bin` : `http://h/${i % 7}/same.txt`),
    );
  const first = names(new FileNamer());
  t.deepEqual(names(new FileNamer()), first);
  t.is(new Set(first.map((n) => n.toLowerCase())).size, first.length);
  t.is(first[0], 'same.txt');
  t.is(first[2], 'same-1.txt');
  t.is(first[19_998], 'same-9999.txt');
  t.is(first[19_999], 'f19999.bin');
});

test('percentile: nearest rank', (t) => {
  t.is(percentile([], 50), undefined);
  t.is(percentile([5], 95), 5);
  t.is(percentile([4, 1, 3, 2], 50), 2);
  t.is(
    percentile(
      [...Array(20).keys()].map((i) => i + 1),
      95,
    ),
    19,
  );
});

test('Summary: counts, bytes, failures by reason, times and rates', (t) => {
  const summary = new Summary();
  summary.add({ url: 'u1', name: 'a', status: 'ok', bytes: 1000, totalMs: 100, attempts: 1 });
  summary.add({ url: 'u2', name: 'b', status: 'ok', bytes: 3000, totalMs: 300, attempts: 3 });
  summary.add({
    url: 'u3',
    name: 'c',
    status: 'failed',
    bytes: 0,
    attempts: 1,
    reason: 'HTTP 404',
    message: '',
  });
  summary.add({
    url: 'u4',
    name: 'd',
    status: 'failed',
    bytes: 0,
    attempts: 1,
    reason: 'CURLE_COULDNT_CONNECT',
    message: 'x',
  });
  summary.add({
    url: 'u5',
    name: 'e',
    status: 'failed',
    bytes: 0,
    attempts: 1,
    reason: 'CURLE_COULDNT_CONNECT',
    message: 'x',
  });
  summary.add({ url: 'u6', name: 'f', status: 'cancelled', bytes: 0, attempts: 0 });
  t.deepEqual(summary.failuresByReason(), [
    ['CURLE_COULDNT_CONNECT', 2],
    ['HTTP 404', 1],
  ]);
  t.is(
    summary.render(2000),
    [
      'summary',
      '  transfers   6 (2 ok, 3 failed, 1 cancelled)',
      '  retries     2',
      '  bytes       4000 (3.9 KiB)',
      '  failures    CURLE_COULDNT_CONNECT  2',
      '              HTTP 404               1',
      '  total time  p50 100 ms, p95 300 ms',
      '  mean rate   9.8 KiB/s per transfer, 2.0 KiB/s overall in 2.0 s',
    ].join('\n'),
  );
});

test('units', (t) => {
  t.is(formatBytes(1023), '1023 B');
  t.is(formatBytes(1536), '1.5 KiB');
  t.is(formatBytes(5 * 1024 * 1024), '5.0 MiB');
  t.is(formatEta(1), '1s');
  t.is(formatEta(65_000), '1:05');
});
