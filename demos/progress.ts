/**
 * Progress events rendered as a bar: `transfer(url)` with `progress: true` emits `progress` events
 * (at most every 100 ms, and a last one with the full totals before `done`); `scan` turns them into
 * a rate, and each is drawn as one line — redrawn in place on a terminal, one line each otherwise.
 *
 * The demo serves a 1 MiB file in 16 pieces, one every 40 ms, and a body of unknown length.
 *
 *   npm run demo:progress
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { concatMap, filter, lastValueFrom, map, scan } from 'rxjs';
import { Curl, type ProgressEvent } from '../src/index.js';

const SIZE = 1024 * 1024;
const server = http.createServer((req, res) => {
  const known = req.url === '/file.bin';
  if (known) res.setHeader('content-length', SIZE); // else chunked: the total is unknown (0)
  let sent = 0;
  const timer = setInterval(() => {
    res.write(Buffer.alloc(SIZE / 16, 'x'));
    sent += SIZE / 16;
    if (sent >= SIZE) {
      clearInterval(timer);
      res.end();
    }
  }, 40);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const tty = process.stdout.isTTY === true;
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

function render(name: string, downloaded: number, total: number, rate: number): string {
  const width = 30;
  const share = total > 0 ? downloaded / total : 0;
  const bar = total > 0 ? '#'.repeat(Math.round(share * width)).padEnd(width, '.') : '?'.repeat(width);
  const percent = total > 0 ? `${String(Math.round(share * 100)).padStart(3)}%` : '   ?';
  const size = total > 0 ? `${kib(downloaded)} / ${kib(total)}` : kib(downloaded);
  return `${name.padEnd(10)} [${bar}] ${percent}  ${size}  ${kib(rate)}/s`;
}

const curl = new Curl();
for (const name of ['file.bin', 'stream']) {
  const started = performance.now();
  await lastValueFrom(
    curl.transfer({ url: `${base}/${name}`, progress: true }).pipe(
      filter((event): event is ProgressEvent => event.type === 'progress'),
      // The rate since the start, from each event's downloaded bytes.
      scan((_, event) => ({ event, rate: (event.downloaded * 1000) / (performance.now() - started) }), {
        event: undefined as unknown as ProgressEvent,
        rate: 0,
      }),
      map(({ event, rate }) => render(name, event.downloaded, event.downloadTotal, rate)),
      concatMap(async (line) => {
        if (tty) process.stdout.write(`\r${line}`);
        else console.log(line);
      }),
    ),
    { defaultValue: undefined },
  );
  if (tty) process.stdout.write('\n');
}
console.log('done');
await curl.close();
server.close();
