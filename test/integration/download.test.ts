import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom, toArray } from 'rxjs';
import { CurlError, type DownloadEvent, HttpError } from '../../src/index.js';
import { delay, freePort, randomPayload, sha256, useCurl, useServer, waitFor } from '../helpers/servers.js';

const payload = randomPayload(5 * 1024 * 1024 + 123);

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'rxcurl-download-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * /file serves the payload and honours `Range: bytes=N-`; /cut sends 1 MiB of it, then drops the
 * connection, the first time only; /slow trickles; /missing is a 404.
 */
function serveFiles(t: ExecutionContext) {
  let cuts = 0;
  return useServer(t, (req, res) => {
    if (req.url === '/missing') {
      res.writeHead(404).end('no');
      return;
    }
    if (req.url === '/slow') {
      res.writeHead(200, { 'content-length': payload.length });
      res.write(payload.subarray(0, 1000));
      return; // never finishes
    }
    const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    if (req.url === '/cut' && cuts++ === 0) {
      res.writeHead(200, { 'content-length': payload.length });
      res.write(payload.subarray(0, 1024 * 1024), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    if (from > 0) {
      res.writeHead(206, {
        'content-length': payload.length - from,
        'content-range': `bytes ${from}-${payload.length - 1}/${payload.length}`,
      });
    } else {
      res.writeHead(200, { 'content-length': payload.length });
    }
    res.end(payload.subarray(from));
  });
}

test('download() writes the exact body to the path and leaves no temporary file', async (t) => {
  const server = await serveFiles(t);
  const dir = tempDir(t);
  const path = join(dir, 'out.bin');
  const curl = useCurl(t);
  const events = await lastValueFrom(curl.download(`${server.url}/file`, path).pipe(toArray()));
  const done = events.at(-1) as Extract<DownloadEvent, { type: 'done' }>;
  t.is(done.type, 'done');
  t.is(done.path, path);
  t.is(done.bytes, payload.length);
  t.true(done.result.ok);
  t.is(sha256(readFileSync(path)), sha256(payload));
  t.deepEqual(readdirSync(dir), ['out.bin']);
});

test('download() of a 404 is an HttpError and leaves an existing file alone', async (t) => {
  const server = await serveFiles(t);
  const dir = tempDir(t);
  const path = join(dir, 'out.bin');
  writeFileSync(path, 'previous');
  const curl = useCurl(t);
  const error = await t.throwsAsync(lastValueFrom(curl.download(`${server.url}/missing`, path)), {
    instanceOf: HttpError,
  });
  t.is(error.status, 404);
  t.deepEqual(readdirSync(dir), ['out.bin'], 'the temporary file is gone when the error arrives');
  t.is(readFileSync(path, 'utf8'), 'previous');
});

test('download() from a refused connection is a CurlError and creates nothing', async (t) => {
  const port = await freePort();
  const dir = tempDir(t);
  const curl = useCurl(t);
  const error = await t.throwsAsync(
    lastValueFrom(curl.download(`http://127.0.0.1:${port}/`, join(dir, 'x'))),
    {
      instanceOf: CurlError,
    },
  );
  t.is(error.code, 7);
  t.deepEqual(readdirSync(dir), []);
});

test('download() cut short fails and removes the temporary file', async (t) => {
  const server = await serveFiles(t);
  const dir = tempDir(t);
  const curl = useCurl(t);
  const error = await t.throwsAsync(lastValueFrom(curl.download(`${server.url}/cut`, join(dir, 'x'))), {
    instanceOf: CurlError,
  });
  t.is(error.code, 18);
  t.deepEqual(readdirSync(dir), []);
});

test('unsubscribing a download removes the temporary file', async (t) => {
  const server = await serveFiles(t);
  const dir = tempDir(t);
  const curl = useCurl(t);
  const subscription = curl.download(`${server.url}/slow`, join(dir, 'x')).subscribe({
    error: (err) => t.fail(String(err)),
  });
  await waitFor(() => readdirSync(dir).length > 0, 'the temporary file to appear');
  await delay(20);
  subscription.unsubscribe();
  await waitFor(() => readdirSync(dir).length === 0, 'the temporary file to be removed');
  t.deepEqual(readdirSync(dir), []);
  t.like(curl.stats(), { transfers: 0 });
});

test('download() with resume continues a cut-short download with a range request', async (t) => {
  const server = await serveFiles(t);
  const dir = tempDir(t);
  const path = join(dir, 'out.bin');
  const curl = useCurl(t);
  await t.throwsAsync(lastValueFrom(curl.download({ url: `${server.url}/cut`, resume: true }, path)));
  t.is(readdirSync(dir).length, 1, 'the partial file is kept for the resume');
  const done = await lastValueFrom(curl.download({ url: `${server.url}/cut`, resume: true }, path));
  const resumedFrom = Number(/^bytes=(\d+)-$/.exec(server.requests.at(-1)?.headers.range ?? '')?.[1]);
  t.true(resumedFrom > 0 && resumedFrom <= 1024 * 1024, `resumed from ${resumedFrom}`);
  t.is(done.type === 'done' ? done.bytes : -1, payload.length);
  t.is(sha256(readFileSync(path)), sha256(payload));
  t.deepEqual(readdirSync(dir), ['out.bin']);
});
