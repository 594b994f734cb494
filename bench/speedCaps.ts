/**
 * How close maxRecvBytesPerSecond and maxSendBytesPerSecond hold a transfer to its cap: each cap,
 * each direction, a body of `seconds` at the cap from a local server, the rate measured from
 * subscription to the response. The tests only prove lower bounds (test/transfers/speedCaps.test.ts).
 *
 *   npx tsx bench/speedCaps.ts [seconds=4] [runs=3]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { lastValueFrom } from 'rxjs';
import { Curl } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const CAPS = [256 * KiB, MiB, 4 * MiB];
const seconds = Number(process.argv[2] ?? 4);
const runs = Number(process.argv[3] ?? 3);

const server = http.createServer((req, res) => {
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  req.on('end', () => {
    const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size') ?? 0);
    if (req.method === 'PUT') res.end(String(received));
    else res.writeHead(200, { 'content-length': size }).end(Buffer.alloc(size, 1));
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const curl = new Curl();

console.log(`| direction | cap | body | runs | rate (median) | off the cap |`);
console.log(`|---|---|---|---|---|---|`);
for (const direction of ['receive', 'send'] as const) {
  for (const cap of CAPS) {
    const size = cap * seconds;
    const rates: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      await lastValueFrom(
        direction === 'receive'
          ? curl.request({ url: `${base}/?size=${size}`, maxRecvBytesPerSecond: cap })
          : curl.request({
              url: `${base}/`,
              method: 'PUT',
              body: Buffer.alloc(size, 2),
              maxSendBytesPerSecond: cap,
            }),
      );
      rates.push(size / ((performance.now() - started) / 1000));
    }
    const median = rates.sort((a, b) => a - b)[Math.floor(runs / 2)];
    const off = ((median / cap - 1) * 100).toFixed(1);
    console.log(
      `| ${direction} | ${cap / KiB} KiB/s | ${size / MiB} MiB | ${runs} | ${(median / KiB).toFixed(0)} KiB/s | ${off} % |`,
    );
  }
}
curl.close();
server.close();
