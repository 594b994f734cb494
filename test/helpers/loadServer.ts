// A cheap keep-alive HTTP server run in a child process (forked by useLoadServer), so that the
// test process's file descriptor limit only has to hold the client's sockets.
//
//   GET /n/<size>   answers <size> bytes at once
//   GET /hold       held until the parent sends { type: 'release' }, then answers 'held'
//
// Messages to the parent: { type: 'listening', port }, and { type: 'stats', ... } on request.
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

interface StatsMessage {
  type: 'stats';
  requests: number;
  held: number;
  connections: number;
  fds: number;
}

export interface LoadServer {
  url: string;
  stats(): Promise<StatsMessage>;
  release(): void;
  close(): Promise<void>;
}

/** Forks this file as a server; resolves once it listens. */
export function startLoadServer(): Promise<LoadServer> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    execArgv: ['--import=tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting: Array<(m: StatsMessage) => void> = [];
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (message: { type: 'listening'; port: number } | StatsMessage) => {
      if (message.type === 'listening') {
        resolve({
          url: `http://127.0.0.1:${message.port}`,
          stats: () =>
            new Promise((done) => {
              waiting.push(done);
              child.send({ type: 'stats' });
            }),
          release: () => child.send({ type: 'release' }),
          close: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill();
            }),
        });
      } else if (message.type === 'stats') waiting.shift()?.(message);
    });
  });
}

function serve(): void {
  let requests = 0;
  let connections = 0;
  let held: http.ServerResponse[] = [];
  let releasing = false;
  const bodies = new Map<number, Buffer>();
  const server = http.createServer((req, res) => {
    requests++;
    if (req.url === '/hold') {
      if (releasing) res.end('held');
      else held.push(res);
      return;
    }
    const size = Number(/^\/n\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 2);
    let body = bodies.get(size);
    if (!body) bodies.set(size, (body = Buffer.alloc(size, 'b')));
    res.writeHead(200, { 'content-length': size });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.maxRequestsPerSocket = 0;
  server.on('connection', (socket) => {
    connections++;
    socket.on('close', () => connections--);
  });
  process.on('message', async (message: { type: string }) => {
    if (message.type === 'release') {
      releasing = true;
      const all = held;
      held = [];
      for (const res of all) res.end('held');
    } else if (message.type === 'stats') {
      const { readdirSync } = await import('node:fs');
      process.send?.({
        type: 'stats',
        requests,
        held: held.length,
        connections,
        fds: readdirSync('/proc/self/fd').length,
      } satisfies StatsMessage);
    }
  });
  process.on('disconnect', () => process.exit(0));
  server.listen({ port: 0, host: '127.0.0.1', backlog: 65535 }, () => {
    process.send?.({ type: 'listening', port: (server.address() as AddressInfo).port });
  });
}

if (process.argv.includes('--serve')) serve();
