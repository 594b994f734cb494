// Local servers for the transfer tests (everything listens on 127.0.0.1, port 0), and the small
// helpers those tests share: a Curl and a temporary folder per test, payloads, checksums, waiting.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { Curl, type CurlOptions } from '../../src/index.js';

export interface TestServer {
  /** 'http://127.0.0.1:<port>' without a trailing slash. */
  url: string;
  port: number;
  /** Every request the server received, in order. */
  requests: http.IncomingMessage[];
  /** Connections currently open. */
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

function listen(server: net.Server, port = 0, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function track(server: net.Server, sockets = new Set<net.Socket>()): Set<net.Socket> {
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };
}

/**
 * Listens on 127.0.0.1, on a port the system picks, and closes `server` and its open connections
 * when the test ends. Returns the port.
 */
export async function listenForTest(t: ExecutionContext, server: net.Server): Promise<number> {
  const sockets = track(server);
  const port = await listen(server);
  t.teardown(closer(server, sockets));
  return port;
}

/** An HTTP server on 127.0.0.1 with the given handler, on `port` or one the system picks. */
export async function startServer(handler: http.RequestListener, port = 0): Promise<TestServer> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  server.keepAliveTimeout = 30_000;
  const sockets = track(server);
  const bound = await listen(server, port);
  return { url: `http://127.0.0.1:${bound}`, port: bound, requests, sockets, close: closer(server, sockets) };
}

/** A raw TCP server: `onConnection` gets every accepted socket. */
export async function startTcpServer(onConnection: (socket: net.Socket) => void): Promise<TestServer> {
  const server = net.createServer(onConnection);
  const sockets = track(server);
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: [],
    sockets,
    close: closer(server, sockets),
  };
}

/** Starts a server and closes it when the test ends. */
export async function useServer(t: ExecutionContext, handler: http.RequestListener): Promise<TestServer> {
  const server = await startServer(handler);
  t.teardown(() => server.close());
  return server;
}

export interface MultiHostServer {
  /** 'http://<host>:<port>' for each host, in the order given. */
  urls: string[];
  /** Connections currently open, on all hosts. */
  sockets: Set<net.Socket>;
}

/**
 * One HTTP server (one handler) answering on several loopback addresses, each on a port the
 * system picks (Linux routes all of 127/8 to lo), so that a client sees several hosts. Closed
 * with its connections when the test ends.
 */
export async function useMultiHostServer(
  t: ExecutionContext,
  hosts: string[],
  handler: http.RequestListener,
): Promise<MultiHostServer> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 30_000;
  const sockets = new Set<net.Socket>();
  const urls: string[] = [];
  for (const host of hosts) {
    // The HTTP server never listens itself: each address's listener hands it its connections.
    const listener = net.createServer((socket) => server.emit('connection', socket));
    track(listener, sockets);
    t.teardown(closer(listener, sockets));
    urls.push(`http://${host}:${await listen(listener, 0, host)}`);
  }
  return { urls, sockets };
}

/** A port that nothing listens on: a server is bound to it, then closed. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A new Curl, closed when the test ends. */
export function useCurl(t: ExecutionContext, options?: CurlOptions): Curl {
  const curl = new Curl(options);
  t.teardown(() => curl.close());
  return curl;
}

/** A new empty folder under the system's temporary folder, removed with its contents when the test ends. */
export function useTempDir(t: ExecutionContext, prefix = 'rxcurl-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function randomPayload(size: number): Buffer {
  return randomBytes(size);
}

/** The whole body of a request. */
export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every few milliseconds until it holds; rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/**
 * Splits `bytes` into pieces of uneven sizes, with empty pieces among them: chunk boundaries never
 * line up with libcurl's buffer, and an empty chunk must be skipped, not taken for the end.
 */
export function pieces(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const sizes = [1, 17, 0, 4096, 65_537, 0, 300_001, 7];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const n = Math.min(sizes[i % sizes.length], bytes.length - offset);
    out.push(bytes.subarray(offset, offset + n));
    offset += n;
  }
  return out;
}
