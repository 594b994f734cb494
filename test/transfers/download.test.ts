import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom, toArray } from 'rxjs';
import { partialPath } from '../../src/api/downloadTo.js';
import { CurlError, type DownloadEvent, HttpError } from '../../src/index.js';
import {
  freePort,
  randomPayload,
  sha256,
  useCurl,
  useServer,
  useTempDir,
  waitFor,
} from '../helpers/servers.js';

const PAYLOAD = randomPayload(4 * 1024 * 1024 + 321);

const tempDir = (t: ExecutionContext) => useTempDir(t, 'rxcurl-dl-');

interface FileServerOptions {
  /** Answer every request with 200 and the whole body, whatever its Range header. */
  ignoreRange?: boolean;
}

/**
 * /file: PAYLOAD, with `Range: bytes=N-` honoured (206) unless ignoreRange; a range past the end
 * is a 416. /missing: 404. /reset: 1 MiB of PAYLOAD, then the connection is destroyed.
 * /cut-once: like /reset the first time, like /file after. /stall: 1 MiB, then nothing.
 * /slow: PAYLOAD in 16 pieces, one every 40 ms.
 */
async function serveFiles(t: ExecutionContext, options: FileServerOptions = {}) {
  const ranges: Array<string | undefined> = [];
  let cuts = 0;
  const server = await useServer(t, (req, res) => {
    ranges.push(req.headers.range);
    const cut = req.url === '/reset' || (req.url === '/cut-once' && cuts++ === 0);
    if (cut) {
      res.writeHead(200, { 'content-length': PAYLOAD.length });
      res.write(PAYLOAD.subarray(0, 1024 * 1024), () => setTimeout(() => res.destroy(), 30));
      return;
    }
    switch (req.url) {
      case '/missing':
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
        return;
      case '/stall':
        res.writeHead(200, { 'content-length': PAYLOAD.length });
        res.write(PAYLOAD.subarray(0, 1024 * 1024));
        return;
      case '/slow': {
        res.writeHead(200, { 'content-length': PAYLOAD.length });
        const piece = Math.ceil(PAYLOAD.length / 16);
        let offset = 0;
        const timer = setInterval(() => {
          if (res.destroyed) return clearInterval(timer);
          res.write(PAYLOAD.subarray(offset, offset + piece));
          offset += piece;
          if (offset >= PAYLOAD.length) {
            clearInterval(timer);
            res.end();
          }
        }, 40);
        return;
      }
    }
    const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    if (from > 0 && !options.ignoreRange) {
      if (from >= PAYLOAD.length) {
        res.writeHead(416, { 'content-range': `bytes */${PAYLOAD.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': PAYLOAD.length - from,
        'content-range': `bytes ${from}-${PAYLOAD.length - 1}/${PAYLOAD.length}`,
      });
      res.end(PAYLOAD.subarray(from));
      return;
    }
    res.writeHead(200, {
      'content-length': PAYLOAD.length,
      'accept-ranges': options.ignoreRange ? 'none' : 'bytes',
    });
    res.end(PAYLOAD);
  });
  return { server, ranges };
}

test('download() writes the body exactly; only the final file is left', async (t) => {
  const { server } = await serveFiles(t);
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'payload.bin');
  const events = await lastValueFrom(curl.download(`${server.url}/file`, path).pipe(toArray()));
  const done = events.at(-1) as Extract<DownloadEvent, { type: 'done' }>;
  t.is(done.type, 'done');
  t.is(done.path, path);
  t.is(done.bytes, PAYLOAD.length);
  t.is(done.result.status, 200);
  t.true(done.result.ok);
  t.is(sha256(readFileSync(path)), sha256(PAYLOAD));
  t.deepEqual(readdirSync(dir), ['payload.bin']);
  t.deepEqual(
    events.filter((e) => e.type === 'progress'),
    [],
    'no progress events unless asked for',
  );
});

test('download() over an existing file replaces it', async (t) => {
  const { server } = await serveFiles(t);
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'payload.bin');
  writeFileSync(path, 'old contents that are longer than nothing');
  await lastValueFrom(curl.download(`${server.url}/file`, path));
  t.is(sha256(readFileSync(path)), sha256(PAYLOAD));
  t.deepEqual(readdirSync(dir), ['payload.bin']);
});

test('a 404 is an HttpError and leaves no file, neither the target nor a partial; an existing file is left as it was', async (t) => {
  const { server } = await serveFiles(t);
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'missing.bin');
  const err = await t.throwsAsync(lastValueFrom(curl.download(`${server.url}/missing`, path)));
  t.true(err instanceof HttpError);
  t.is((err as HttpError).status, 404);
  t.is((err as HttpError).url, `${server.url}/missing`);
  t.false(existsSync(path));
  t.false(existsSync(partialPath(path)));
  t.deepEqual(readdirSync(dir), []);

  writeFileSync(path, 'previous');
  let leftAtError: string[] | undefined;
  const again = await t.throwsAsync(
    lastValueFrom(curl.download(`${server.url}/missing`, path)).catch((e) => {
      leftAtError = readdirSync(dir);
      throw e;
    }),
  );
  t.is((again as HttpError).status, 404);
  t.deepEqual(leftAtError, ['missing.bin'], 'the partial file is gone when the error arrives');
  t.is(readFileSync(path, 'utf8'), 'previous');
});

test('a refused connection is CurlError 7 and creates no file', async (t) => {
  const port = await freePort();
  const curl = useCurl(t);
  const dir = tempDir(t);
  const err = await t.throwsAsync(lastValueFrom(curl.download(`http://127.0.0.1:${port}/`, join(dir, 'x'))), {
    instanceOf: CurlError,
  });
  t.is(err.code, 7);
  t.deepEqual(readdirSync(dir), []);
});

test('a connection reset mid-body is a CurlError and leaves no file', async (t) => {
  const { server } = await serveFiles(t);
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'reset.bin');
  let leftAtError: string[] | undefined;
  const err = await t.throwsAsync(
    lastValueFrom(curl.download(`${server.url}/reset`, path)).catch((e) => {
      leftAtError = readdirSync(dir);
      throw e;
    }),
  );
  t.true(err instanceof CurlError, String(err));
  t.true([18, 56].includes((err as CurlError).code as number), `code ${(err as CurlError).code}`);
  t.deepEqual(leftAtError, [], 'the partial file is removed before the error is delivered');
  t.deepEqual(readdirSync(dir), []);
});

/**
 * What libcurl has written may wait in the file's stdio buffer, at most one block (BUFSIZ, 8 KiB,
 * or st_blksize when smaller), until the next write or the close.
 */
const STDIO_BUFFER_MAX = 8192;

/** A download of a body that stalls after its first MiB, unsubscribed once `bytes` are on disk. */
async function stalledDownload(t: ExecutionContext, bytes: number) {
  const { server } = await serveFiles(t);
  const curl = useCurl(t);
  const dir = tempDir(t);
  const partial = partialPath(join(dir, 'stalled.bin'));
  const delivered: string[] = [];
  const subscription = curl.download(`${server.url}/stall`, join(dir, 'stalled.bin')).subscribe({
    next: (event) => delivered.push(event.type),
    error: (err) => delivered.push(`error ${err}`),
    complete: () => delivered.push('complete'),
  });
  await waitFor(() => existsSync(partial) && statSync(partial).size >= bytes, `${bytes} bytes on disk`);
  subscription.unsubscribe();
  return { curl, dir, delivered };
}

test('unsubscribing mid-body leaves no file, and delivers nothing', async (t) => {
  const { curl, dir, delivered } = await stalledDownload(t, 1024 * 1024 - STDIO_BUFFER_MAX);
  await waitFor(() => readdirSync(dir).length === 0, 'the partial file to be removed');
  t.deepEqual(readdirSync(dir), []);
  t.deepEqual(delivered, [], 'no error and no completion after an unsubscribe');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('close() right after unsubscribing a download resolves once its partial file is gone', async (t) => {
  const { curl, dir } = await stalledDownload(t, 1);
  await curl.close();
  t.deepEqual(readdirSync(dir), [], 'nothing left the moment close() resolves');
});

test('resume: an existing partial file is continued with a Range request', async (t) => {
  const { server, ranges } = await serveFiles(t);
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'resumed.bin');
  const have = 1_500_001;
  writeFileSync(partialPath(path), PAYLOAD.subarray(0, have));
  const done = (await lastValueFrom(
    curl.download({ url: `${server.url}/file`, resume: true }, path),
  )) as Extract<DownloadEvent, { type: 'done' }>;
  t.deepEqual(ranges, [`bytes=${have}-`]);
  t.is(done.result.status, 206);
  t.is(done.bytes, PAYLOAD.length, 'bytes counts the whole file');
  t.is(done.result.downloadedBytes, PAYLOAD.length - have, 'only the rest went over the network');
  t.is(sha256(readFileSync(path)), sha256(PAYLOAD));
  t.deepEqual(readdirSync(dir), ['resumed.bin']);
});

test('resume: a download cut short keeps its partial file, and the next attempt continues it', async (t) => {
  const { server, ranges } = await serveFiles(t);
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'cut.bin');
  const err = await t.throwsAsync(
    lastValueFrom(curl.download({ url: `${server.url}/cut-once`, resume: true }, path)),
  );
  t.true(err instanceof CurlError, String(err));
  t.deepEqual(readdirSync(dir), [basename(partialPath(path))], 'the partial file is kept for the resume');
  const kept = statSync(partialPath(path)).size;
  t.true(kept > 0 && kept <= 1024 * 1024, `${kept} bytes kept`);
  const done = (await lastValueFrom(
    curl.download({ url: `${server.url}/cut-once`, resume: true }, path),
  )) as Extract<DownloadEvent, { type: 'done' }>;
  t.deepEqual(ranges, [undefined, `bytes=${kept}-`]);
  t.is(done.bytes, PAYLOAD.length);
  t.is(done.result.downloadedBytes, PAYLOAD.length - kept);
  t.is(sha256(readFileSync(path)), sha256(PAYLOAD));
  t.deepEqual(readdirSync(dir), ['cut.bin']);
});

test('resume without a partial file downloads the whole body with no Range header', async (t) => {
  const { server, ranges } = await serveFiles(t);
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'fresh.bin');
  await lastValueFrom(curl.download({ url: `${server.url}/file`, resume: true }, path));
  t.deepEqual(ranges, [undefined]);
  t.is(sha256(readFileSync(path)), sha256(PAYLOAD));
  t.deepEqual(readdirSync(dir), ['fresh.bin']);
});

test('resume against a server that ignores Range starts over, and the file is still exact', async (t) => {
  const { server, ranges } = await serveFiles(t, { ignoreRange: true });
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'restarted.bin');
  // Garbage in the partial file: if any of it were kept, the checksum would be wrong.
  writeFileSync(partialPath(path), Buffer.alloc(777_777, 0xee));
  const done = (await lastValueFrom(
    curl.download({ url: `${server.url}/file`, resume: true }, path),
  )) as Extract<DownloadEvent, { type: 'done' }>;
  t.log(`Range headers sent: ${JSON.stringify(ranges)}`);
  t.is(ranges[0], 'bytes=777777-');
  t.is(done.bytes, PAYLOAD.length);
  t.is(readFileSync(path).length, PAYLOAD.length);
  t.is(sha256(readFileSync(path)), sha256(PAYLOAD));
  t.deepEqual(readdirSync(dir), ['restarted.bin']);
});

test('resume with a partial file longer than the body (416) starts over', async (t) => {
  const { server, ranges } = await serveFiles(t);
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'toolong.bin');
  writeFileSync(partialPath(path), Buffer.alloc(PAYLOAD.length + 10, 1));
  await lastValueFrom(curl.download({ url: `${server.url}/file`, resume: true }, path));
  t.deepEqual(ranges, [`bytes=${PAYLOAD.length + 10}-`, undefined]);
  t.is(sha256(readFileSync(path)), sha256(PAYLOAD));
  t.deepEqual(readdirSync(dir), ['toolong.bin']);
});

for (const ignoreRange of [false, true]) {
  test(`resume with an already complete partial file keeps it exact (server ${ignoreRange ? 'ignores' : 'honours'} Range)`, async (t) => {
    // Honoured, the range is past the end: 416, and the download starts over. Ignored, the server
    // answers 200 with a Content-Length equal to what is on disk: libcurl then ends the transfer
    // without reading the body ("already downloaded"), and the partial file must be kept as is,
    // not truncated (it once was: an empty file was renamed into place).
    const { server } = await serveFiles(t, { ignoreRange });
    const curl = useCurl(t);
    const dir = tempDir(t);
    const path = join(dir, 'complete.bin');
    writeFileSync(partialPath(path), PAYLOAD);
    const done = (await lastValueFrom(
      curl.download({ url: `${server.url}/file`, resume: true }, path),
    )) as Extract<DownloadEvent, { type: 'done' }>;
    t.is(readFileSync(path).length, PAYLOAD.length);
    t.is(done.bytes, PAYLOAD.length);
    t.is(sha256(readFileSync(path)), sha256(PAYLOAD));
    t.deepEqual(readdirSync(dir), ['complete.bin']);
  });
}

test('progress: true gives DownloadEvent progress; the last one before done has the full size', async (t) => {
  const { server } = await serveFiles(t);
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'slow.bin');
  const events = await lastValueFrom(
    curl.download({ url: `${server.url}/slow`, progress: true }, path).pipe(toArray()),
  );
  const progress = events.filter(
    (e): e is Extract<DownloadEvent, { type: 'progress' }> => e.type === 'progress',
  );
  t.true(progress.length >= 2, `${progress.length} progress events`);
  t.is(events.at(-1)?.type, 'done');
  t.deepEqual(events.at(-2), { type: 'progress', downloaded: PAYLOAD.length, total: PAYLOAD.length });
  const downloaded = progress.map((p) => p.downloaded);
  t.deepEqual(
    downloaded,
    [...downloaded].sort((a, b) => a - b),
  );
  t.true(
    progress.some((p) => p.downloaded > 0 && p.downloaded < PAYLOAD.length && p.total === PAYLOAD.length),
  );
  t.is(sha256(readFileSync(path)), sha256(PAYLOAD));
});

test('progress of a resumed download counts the bytes already on disk', async (t) => {
  const { server } = await serveFiles(t);
  const curl = useCurl(t);
  const dir = tempDir(t);
  const path = join(dir, 'resumed-progress.bin');
  const have = 2_000_000;
  writeFileSync(partialPath(path), PAYLOAD.subarray(0, have));
  const events = await lastValueFrom(
    curl.download({ url: `${server.url}/file`, resume: true, progress: true }, path).pipe(toArray()),
  );
  const progress = events.filter(
    (e): e is Extract<DownloadEvent, { type: 'progress' }> => e.type === 'progress',
  );
  t.deepEqual(progress.at(-1), { type: 'progress', downloaded: PAYLOAD.length, total: PAYLOAD.length });
  t.true(progress.every((p) => p.downloaded >= have && p.total === PAYLOAD.length));
  t.is(sha256(readFileSync(path)), sha256(PAYLOAD));
});
