// download(…, { ifChanged: true }) and the CLI's --update against a server that honours
// If-Modified-Since, and against servers that ignore it.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { partialPath } from '../../src/api/downloadTo.js';
import type { DownloadEvent } from '../../src/index.js';
import { runCli } from '../cli/helpers.js';
import { useCurl, useServer, useTempDir } from '../helpers/servers.js';

type Done = Extract<DownloadEvent, { type: 'done' }>;

const JANUARY = Date.parse('2024-01-02T03:04:05Z');
const JUNE = Date.parse('2024-06-01T12:00:00Z');

interface Resource {
  body: string;
  /** Last-Modified in ms; undefined: none sent. */
  modified: number | undefined;
}

/**
 * GET /file: `resource`, with Last-Modified. `honour`: a 304 when If-Modified-Since is not older
 * than it; otherwise the condition is ignored (always 200). Records every If-Modified-Since and Range.
 */
async function serveResource(t: ExecutionContext, resource: Resource, honour = true) {
  const sinces: Array<string | undefined> = [];
  const ranges: Array<string | undefined> = [];
  const server = await useServer(t, (req, res) => {
    const since = req.headers['if-modified-since'];
    sinces.push(since);
    ranges.push(req.headers.range);
    const { body, modified } = resource;
    const headers = modified === undefined ? {} : { 'last-modified': new Date(modified).toUTCString() };
    if (honour && since !== undefined && modified !== undefined && Date.parse(since) >= modified) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) }).end(body);
  });
  return { url: `${server.url}/file`, sinces, ranges };
}

const download = (t: ExecutionContext, url: string, path: string, resume = false) =>
  lastValueFrom(useCurl(t).download({ url, resume }, path, { ifChanged: true })) as Promise<Done>;

test('ifChanged: the first download sets the mtime to Last-Modified; the next gets a 304 and leaves the file as it was', async (t) => {
  const resource = { body: 'version one', modified: JANUARY };
  const { url, sinces } = await serveResource(t, resource);
  const dir = useTempDir(t, 'rxcurl-cond-');
  const path = join(dir, 'file');

  const first = await download(t, url, path);
  t.is(first.bytes, 11);
  t.is(first.notModified, undefined);
  t.is(first.result.fileTime, JANUARY);
  t.deepEqual(sinces, [undefined], 'no condition without a file');
  const before = statSync(path);
  t.is(before.mtimeMs, JANUARY);

  const second = await download(t, url, path);
  t.deepEqual(sinces[1], new Date(JANUARY).toUTCString(), 'If-Modified-Since from the mtime');
  t.true(second.notModified);
  t.is(second.bytes, 0);
  t.is(second.result.status, 304);
  t.true(second.result.ok);
  const after = statSync(path);
  t.is(after.mtimeMs, before.mtimeMs);
  t.is(after.ino, before.ino, 'the same file, not a replaced one');
  t.is(readFileSync(path, 'utf8'), 'version one');
  t.deepEqual(readdirSync(dir), ['file'], 'no partial file left');

  // The resource changes: a newer Last-Modified, so a 200 replaces the file and its mtime.
  resource.body = 'version two, longer';
  resource.modified = JUNE;
  const third = await download(t, url, path);
  t.is(sinces[2], new Date(JANUARY).toUTCString());
  t.is(third.notModified, undefined);
  t.is(third.bytes, 19);
  t.is(readFileSync(path, 'utf8'), 'version two, longer');
  t.is(statSync(path).mtimeMs, JUNE);
  t.not(statSync(path).ino, before.ino, 'replaced by a rename');
  t.deepEqual(readdirSync(dir), ['file']);
});

test('ifChanged: a server that ignores If-Modified-Since and sends no Last-Modified gets the file downloaded again', async (t) => {
  const resource = { body: 'always fresh', modified: undefined };
  const { url, sinces } = await serveResource(t, resource, false);
  const dir = useTempDir(t, 'rxcurl-cond-');
  const path = join(dir, 'file');
  writeFileSync(path, 'stale');
  const mtime = statSync(path).mtime;

  const done = await download(t, url, path);
  t.is(sinces[0], mtime.toUTCString(), 'the condition was sent');
  t.is(done.notModified, undefined);
  t.is(done.bytes, 12);
  t.is(done.result.fileTime, undefined, 'the server gave no time');
  t.is(readFileSync(path, 'utf8'), 'always fresh');
  t.deepEqual(readdirSync(dir), ['file']);
});

test('ifChanged: a 200 whose Last-Modified is not newer than the file is not modified either (libcurl drops its body and says 304)', async (t) => {
  const resource = { body: 'version one', modified: JANUARY };
  const { url, sinces } = await serveResource(t, resource, false);
  const dir = useTempDir(t, 'rxcurl-cond-');
  const path = join(dir, 'file');
  await download(t, url, path);
  const before = statSync(path);

  const again = await download(t, url, path);
  t.is(sinces.length, 2, 'the server answered 200 twice');
  t.is(again.result.status, 304, "libcurl's simulated 304");
  t.true(again.result.conditionUnmet);
  t.true(again.notModified);
  t.is(again.bytes, 0);
  t.is(statSync(path).ino, before.ino);
  t.is(readFileSync(path, 'utf8'), 'version one');
  t.deepEqual(readdirSync(dir), ['file']);
});

test('ifChanged with resume: a partial file is not the file; a 304 for the file removes a stale partial file', async (t) => {
  const resource = { body: 'version one', modified: JANUARY };
  const { url, sinces, ranges } = await serveResource(t, resource);
  const dir = useTempDir(t, 'rxcurl-cond-');
  const path = join(dir, 'file');

  // Only a partial file: resumed without a condition.
  writeFileSync(partialPath(path), 'version');
  const resumed = await download(t, url, path, true);
  t.is(ranges[0], 'bytes=7-');
  t.true(
    sinces.every((since) => since === undefined),
    'no condition without the file',
  );
  // The server ignores ranges (200): the download starts over, and the file is whole.
  t.is(resumed.result.status, 200);
  t.is(readFileSync(path, 'utf8'), 'version one');
  t.is(statSync(path).mtimeMs, JANUARY);

  // The file and a partial file: the condition is on the file, and a 304 drops the partial file.
  writeFileSync(partialPath(path), 'leftover');
  const current = await download(t, url, path, true);
  t.is(sinces.at(-1), new Date(JANUARY).toUTCString());
  t.true(current.notModified);
  t.is(readFileSync(path, 'utf8'), 'version one');
  t.deepEqual(readdirSync(dir), ['file']);
});

test('the CLI with --update says which files were not modified, and exits 0', async (t) => {
  const resource = { body: 'version one', modified: JANUARY };
  const { url } = await serveResource(t, resource);
  const dir = useTempDir(t, 'rxcurl-cond-');

  const first = await runCli(['-o', dir, '--update', url]);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /^ok file \(11 bytes/m);
  t.is(statSync(join(dir, 'file')).mtimeMs, JANUARY);

  const second = await runCli(['-o', dir, '--update', url]);
  t.is(second.code, 0, second.stderr);
  t.regex(second.stdout, new RegExp(`^not modified file \\(\\d+ ms\\) ${url}$`, 'm'));
  t.regex(second.stdout, /transfers +1 \(0 ok, 1 not modified, 0 failed\)/);
  t.is(readFileSync(join(dir, 'file'), 'utf8'), 'version one');
  t.deepEqual(readdirSync(dir), ['file']);
});
