/**
 * `npm run demo`: runs demos/hiperfifo.ts against a local HTTP server, offline, with no arguments.
 *
 * It starts a server on 127.0.0.1 (a free port), runs the demo as a child process and writes URLs to
 * its standard input a few at a time, with small pauses, so that completions interleave. Then it
 * closes the child's input, waits for it to exit, closes the server and exits with the child's code.
 *
 * To feed the demo yourself through a real FIFO, as libcurl's hiperfifo.c does:
 *
 *   mkfifo /tmp/urls; npx tsx demos/hiperfifo.ts /tmp/urls
 *   # in another shell:
 *   echo https://curl.se/ > /tmp/urls
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const server = http.createServer((req, res) => {
  switch (req.url) {
    case '/hello':
      return void res.end('hello, world\n');
    case '/1k':
      return void res.end(Buffer.alloc(1024, 'a'));
    case '/64k':
      return void res.end(Buffer.alloc(64 * 1024, 'b'));
    case '/slow':
      return void setTimeout(() => res.end('finally\n'), 300);
    default:
      res.statusCode = 404;
      return void res.end('not found\n');
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// `--import tsx` resolves from the working directory, hence `cwd: root`.
const child = spawn(process.execPath, ['--import', 'tsx', 'demos/hiperfifo.ts'], {
  cwd: root,
  stdio: ['pipe', 'pipe', 'inherit'],
});
const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
child.stdout.pipe(process.stdout);
// The demo prints `running: 0` once it is up: feed it from then on, so the pauses below are real.
await once(child.stdout, 'data');

const batches = [
  [`${base}/slow`, `${base}/hello`, `${base}/1k`],
  [`${base}/64k`, `${base}/missing`],
  [`${base}/slow`, 'http://127.0.0.1:1/refused', 'not a url'],
  [`${base}/hello`],
];
for (const batch of batches) {
  child.stdin.write(batch.map((url) => `${url}\n`).join(''));
  await sleep(100);
}
child.stdin.end();

const code = await exited;
server.closeAllConnections();
server.close();
process.exit(code);
