/**
 * Something to point the `rxcurl` command at: a local file server with throttled, resumable
 * downloads, a flaky file and a missing one.
 *
 *   npm run demo:serve           # serves on http://127.0.0.1:8765 (PORT=… to change) and prints a command to try
 *   npm run demo:cli             # the same server, plus one run of the CLI against it (then exits with its status)
 *
 * Files: /files/file-1.bin … /files/file-6.bin (256 KiB to 1.5 MiB, sent at about 512 KiB/s each,
 * `Range: bytes=N-` honoured), /files/flaky.txt (503 on every other request), /files/missing (404).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RATE = 512 * 1024; // bytes per second, per transfer
const files = new Map<string, number>(
  [1, 2, 3, 4, 5, 6].map((i) => [`file-${i}.bin`, i * 256 * 1024] as [string, number]),
);
let flaky = 0;

const server = http.createServer((req, res) => {
  const name = (req.url ?? '').replace(/^\/files\//, '');
  if (name === 'flaky.txt') {
    if (flaky++ % 2 === 0) return void res.writeHead(503, { 'retry-after': '1' }).end('busy\n');
    return void res.end('worked this time\n');
  }
  const size = files.get(name);
  if (size === undefined) return void res.writeHead(404).end('not found\n');
  const from = Math.min(size, Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0));
  if (from > 0) {
    res.writeHead(206, {
      'content-length': size - from,
      'content-range': `bytes ${from}-${size - 1}/${size}`,
    });
  } else res.writeHead(200, { 'content-length': size });
  // RATE bytes per second, in tenths.
  let offset = from;
  const timer = setInterval(() => {
    const n = Math.min(Math.floor(RATE / 10), size - offset);
    res.write(Buffer.alloc(n, offset % 251));
    offset += n;
    if (offset >= size) {
      clearInterval(timer);
      res.end();
    }
  }, 100);
  res.on('close', () => clearInterval(timer));
});

const runOnce = process.argv.includes('--run');
const port = runOnce ? 0 : Number(process.env.PORT ?? 8765);
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/files`;
const urls = [...files.keys(), 'flaky.txt', 'missing'].map((name) => `${base}/${name}`);

if (!runOnce) {
  console.log(`serving on ${base}/ — try, in another shell (after npm run build):\n`);
  console.log(`  npx rxcurl -j 4 --retry 2 -o ${join(tmpdir(), 'rxcurl-demo')} ${urls.join(' ')}\n`);
  console.log('Ctrl-C stops the server.');
} else {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const cli = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      '-j',
      '4',
      '--retry',
      '2',
      '-o',
      join(tmpdir(), 'rxcurl-demo'),
      ...urls,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  // Ctrl-C reaches the CLI too (same process group); the server waits for it to finish.
  process.on('SIGINT', () => {});
  cli.on('exit', (code) => {
    server.closeAllConnections();
    server.close();
    process.exitCode = code ?? 1;
  });
}
