/**
 * The `rxcurl` command's resident memory over a long list of URLs: nginx (a minimal config of its
 * own, every path answered with 3 bytes) on 127.0.0.1, a list of COUNT distinct URLs, and the CLI
 * run with `-i LIST -j 16 -o DIR`; its RSS is read from /proc every 250 ms.
 *
 *   node --import tsx bench/cliRss.ts [COUNT] [CLI]     # default 200000, dist/cli/main.js
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './freePort.js';

const count = Number(process.argv[2] ?? 200_000);
const cli = process.argv[3] ?? new URL('../dist/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'rxcurl-rss-'));

const port = await freePort();
writeFileSync(
  join(dir, 'nginx.conf'),
  `daemon on; pid ${dir}/nginx.pid; worker_processes 1; error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 100000000; client_body_temp_path ${dir}/body;
  server { listen 127.0.0.1:${port}; location / { return 200 "ok\\n"; } } }
`,
);
execFileSync('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]);
const stopNginx = () => process.kill(Number(readFileSync(join(dir, 'nginx.pid'), 'utf8')), 'SIGTERM');

try {
  const list = join(dir, 'urls.txt');
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`http://127.0.0.1:${port}/files/${i}.txt`);
  writeFileSync(list, `${lines.join('\n')}\n`);
  const out = join(dir, 'out');
  const began = performance.now();
  const child = spawn(process.execPath, [cli, '-i', list, '-j', '16', '-o', out], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let done = 0;
  let tail = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    tail = (tail + s).slice(-2000);
    for (const c of s) if (c === '\n') done++;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const samples: { s: number; done: number; rssMiB: number }[] = [];
  /** CPU seconds of the CLI (user + system) at the last sample. */
  let cpu = 0;
  let running = true;
  void exited.then(() => {
    running = false;
  });
  while (running) {
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      cpu = (Number(stat[11]) + Number(stat[12])) / 100; // utime, stime in ticks of 1/100 s
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
      if (kib > 0) samples.push({ s: (performance.now() - began) / 1000, done, rssMiB: kib / 1024 });
    } catch {
      // exited between two samples
    }
    await sleep(250);
  }
  const code = await exited;
  const seconds = (performance.now() - began) / 1000;
  // One line per tenth of the run, and the peak.
  const step = Math.max(1, Math.floor(samples.length / 10));
  for (let i = 0; i < samples.length; i += step) {
    const { s, done: d, rssMiB } = samples[i]!;
    console.log(`${s.toFixed(1).padStart(6)} s  ${String(d).padStart(7)} done  RSS ${rssMiB.toFixed(1)} MiB`);
  }
  const peak = Math.max(...samples.map((x) => x.rssMiB));
  console.log(
    `${count} URLs, exit ${code}, ${seconds.toFixed(1)} s, ${cpu.toFixed(1)} s of CPU, peak RSS ${peak.toFixed(1)} MiB`,
  );
  console.log(tail.split('\n').slice(-9).join('\n'));
} finally {
  stopNginx();
  rmSync(dir, { recursive: true, force: true });
}
