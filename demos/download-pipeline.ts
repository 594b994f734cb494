/**
 * A download pipeline: a list → filter → download with retry → sha256 checksum verify.
 *
 * The demo serves a manifest (`/manifest.json`: name, size, sha256 of each file) and the files on
 * 127.0.0.1. It fetches the manifest, keeps the files up to 64 KiB, downloads them three at a time
 * (one of them answers 503 twice before it works, so `retryTransient` has something to do), and
 * checks each file's sha256 against the manifest. One file is served corrupted on purpose: its
 * checksum does not match and the pipeline says so.
 *
 *   npm run demo:pipeline
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, from, last, lastValueFrom, map, mergeMap, toArray } from 'rxjs';
import { Curl, type DownloadEvent, ensureOk, retryTransient } from '../src/index.js';

type DownloadDone = Extract<DownloadEvent, { type: 'done' }>;

interface Entry {
  name: string;
  size: number;
  sha256: string;
}

// --- the server: four files, a manifest, one flaky file, one corrupted file -----------------------
const files = new Map<string, Buffer>([
  ['readme.txt', Buffer.from('rxcurl download pipeline demo\n')],
  ['data.csv', Buffer.from(Array.from({ length: 2000 }, (_, i) => `${i},${i * i}`).join('\n'))],
  ['image.raw', Buffer.alloc(48 * 1024, 7)],
  ['huge.iso', Buffer.alloc(512 * 1024, 1)], // filtered out: too big
]);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const manifest: Entry[] = [...files].map(([name, data]) => ({
  name,
  size: data.length,
  sha256: sha256(data),
}));
let flakyAttempts = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/manifest.json')
    return void res.setHeader('content-type', 'application/json').end(JSON.stringify(manifest));
  const name = req.url!.replace(/^\/files\//, '');
  const data = files.get(name);
  if (!data) return void res.writeHead(404).end();
  if (name === 'data.csv' && ++flakyAttempts <= 2) return void res.writeHead(503).end('busy, try again');
  // image.raw is corrupted in transit: one byte differs from what the manifest says.
  res.end(name === 'image.raw' ? Buffer.concat([data.subarray(0, -1), Buffer.from([0])]) : data);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// --- the pipeline -------------------------------------------------------------------------------
const MAX_SIZE = 64 * 1024;
const dir = await mkdtemp(join(tmpdir(), 'rxcurl-pipeline-'));
const curl = new Curl();

function fileSha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

const results = await lastValueFrom(
  curl.request(`${base}/manifest.json`).pipe(
    ensureOk(),
    mergeMap((response) => from(response.json<Entry[]>())), // the list
    filter((entry) => {
      if (entry.size <= MAX_SIZE) return true;
      console.log(`skip     ${entry.name} (${entry.size} bytes > ${MAX_SIZE})`);
      return false;
    }),
    mergeMap(
      (entry) =>
        curl.download(`${base}/files/${entry.name}`, join(dir, entry.name)).pipe(
          retryTransient({ count: 3, baseDelayMs: 50, maxDelayMs: 500 }), // 503 → wait → again
          filter((event): event is DownloadDone => event.type === 'done'), // the file is complete and in place
          last(),
          mergeMap(async (done) => ({ entry, bytes: done.bytes, actual: await fileSha256(done.path) })),
        ),
      3, // three downloads at a time
    ),
    map(({ entry, bytes, actual }) => {
      const ok = actual === entry.sha256;
      console.log(
        `${ok ? 'verified' : 'MISMATCH'} ${entry.name} (${bytes} bytes, sha256 ${actual.slice(0, 16)}…)`,
      );
      return ok;
    }),
    toArray(),
  ),
);

const verified = results.filter(Boolean).length;
console.log(
  `${verified} verified, ${results.length - verified} checksum mismatch, ${flakyAttempts - 1} retries`,
);
await curl.close();
await rm(dir, { recursive: true, force: true });
server.close();
