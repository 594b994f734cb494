/**
 * The server: nginx from Debian's packages (installed when missing), started on 127.0.0.1 with
 * `-p <dir>` and bench/nginx.conf.template, a self-signed certificate made with openssl, and the
 * payload files generated into `<dir>/www`. `stop()` is synchronous so it also runs on exit.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './freePort.js';
import { aptInstall, fdLimit, hasCommand, pinned } from './system.js';

const ECHO_MODULES = [
  '/usr/lib/nginx/modules/ngx_http_echo_module.so',
  '/usr/share/nginx/modules/ngx_http_echo_module.so',
];

/** Payload files served from the document root: name → size in bytes. */
export const PAYLOADS = {
  '1k': 1024,
  '64k': 64 * 1024,
  '256m': 256 * 1024 * 1024,
  '1g': 1024 * 1024 * 1024,
} as const;
export type Payload = keyof typeof PAYLOADS;

/** The body of /hold: `echo ok;` (the echo module adds the newline). */
export const HOLD_BODY_BYTES = 3;

export interface Nginx {
  httpOrigin: string;
  httpsOrigin: string;
  stop(): void;
}

/** Installs nginx-light and the echo module when missing. */
export function ensureNginx(): void {
  const missing = [
    ...(hasCommand('nginx') ? [] : ['nginx-light']),
    ...(echoModule() ? [] : ['libnginx-mod-http-echo']),
    ...(hasCommand('openssl') ? [] : ['openssl']),
  ];
  aptInstall(missing);
}

const echoModule = (): string | undefined => ECHO_MODULES.find((path) => existsSync(path));

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on port ${port}`);
    await sleep(50);
  }
}

/** Writes `size` bytes of random data in 1 MiB blocks (a repeated block for the large files). */
function writePayload(path: string, size: number): void {
  const block = randomBytes(Math.min(size, 1024 * 1024));
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < size; written += block.length) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}

export async function startNginx(dir: string): Promise<Nginx> {
  const module = echoModule();
  if (module === undefined) throw new Error('the nginx echo module is missing (libnginx-mod-http-echo)');
  mkdirSync(join(dir, 'www'), { recursive: true, mode: 0o755 });
  for (const [name, size] of Object.entries(PAYLOADS)) writePayload(join(dir, 'www', name), size);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const template = readFileSync(new URL('./nginx.conf.template', import.meta.url), 'utf8');
  const values: Record<string, string> = {
    PREFIX: dir,
    ECHO_MODULE: module,
    HTTP_PORT: String(httpPort),
    HTTPS_PORT: String(httpsPort),
    NOFILE: String(fdLimit()),
  };
  const config = template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => values[key] ?? `{{${key}}}`);
  writeFileSync(join(dir, 'nginx.conf'), config);
  const [command, ...args] = pinned(0, [
    'nginx',
    '-p',
    dir,
    '-c',
    join(dir, 'nginx.conf'),
    '-e',
    join(dir, 'error.log'),
  ]);
  execFileSync(command!, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const pidFile = join(dir, 'nginx.pid');
  let stopped = false;
  const nginx: Nginx = {
    httpOrigin: `http://127.0.0.1:${httpPort}`,
    httpsOrigin: `https://127.0.0.1:${httpsPort}`,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
      } catch {
        // not running (any more)
      }
    },
  };
  try {
    await waitForPort(httpPort);
    await waitForPort(httpsPort);
  } catch (error) {
    nginx.stop();
    throw error;
  }
  return nginx;
}
