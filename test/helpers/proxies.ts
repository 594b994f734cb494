// Proxies for the proxy tests, on 127.0.0.1: an HTTP proxy that forwards absolute-form requests and
// tunnels CONNECT (in clear or over TLS, with or without Basic credentials), and a SOCKS5 proxy that
// resolves names itself. Each records what it was asked for.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { ExecutionContext } from 'ava';
import type { Pki } from './pki.js';
import { listenForTest } from './servers.js';

export interface ProxyLog {
  /** `GET http://host:port/path` for a forwarded request, `CONNECT host:port` for a tunnel, `SOCKS5 host:port`. */
  asked: string[];
  /** The Proxy-Authorization header of each request or CONNECT ('' without one). */
  credentials: string[];
}

export interface TestProxy extends ProxyLog {
  /** 'http://127.0.0.1:<port>', 'https://…' or 'socks5h://…'. */
  url: string;
  port: number;
}

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

/**
 * An HTTP proxy; over TLS with `pki`; asking for `auth` (407 without it). A forwarded request gets
 * `via: 1.1 test-proxy`; one for a host under `.invalid` (which resolves nowhere) the proxy answers itself.
 */
export async function useHttpProxy(
  t: ExecutionContext,
  options: { auth?: { username: string; password: string }; pki?: Pki } = {},
): Promise<TestProxy> {
  const log: ProxyLog = { asked: [], credentials: [] };
  const wanted = options.auth ? basic(options.auth.username, options.auth.password) : undefined;
  const admitted = (req: http.IncomingMessage) => {
    const given = req.headers['proxy-authorization'] ?? '';
    log.credentials.push(given);
    return wanted === undefined || given === wanted;
  };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    log.asked.push(`${req.method} ${req.url}`);
    if (!admitted(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const target = new URL(req.url ?? '');
    if (target.hostname.endsWith('.invalid')) {
      res.end(`the proxy answered ${req.method} ${req.url} host=${req.headers.host}`);
      return;
    }
    const headers: http.OutgoingHttpHeaders = { ...req.headers, via: '1.1 test-proxy' };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = http.request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  };
  const server = options.pki
    ? https.createServer({ key: options.pki.serverKey, cert: options.pki.serverCert }, onRequest)
    : http.createServer(onRequest);
  // Tunnels' upstream connections; the proxy's own connections are closed by listenForTest.
  const upstreams = new Set<net.Socket>();
  t.teardown(() => {
    for (const upstream of upstreams) upstream.destroy();
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    log.asked.push(`CONNECT ${req.url}`);
    if (!admitted(req)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n',
      );
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstreams.add(upstream);
    upstream.on('close', () => upstreams.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const port = await listenForTest(t, server);
  return Object.assign(log, { url: `${options.pki ? 'https' : 'http'}://127.0.0.1:${port}`, port });
}

/**
 * A SOCKS5 proxy (RFC 1928, no authentication) that resolves host names through `hosts` (a name
 * it does not know is refused), so a request reaches a name only the proxy knows.
 */
export async function useSocks5Proxy(t: ExecutionContext, hosts: Record<string, string>): Promise<TestProxy> {
  const log: ProxyLog = { asked: [], credentials: [] };
  const server = net.createServer((client) => {
    client.on('error', () => client.destroy());
    client.once('data', (greeting) => {
      if (greeting[0] !== 5) return void client.destroy();
      client.write(Buffer.from([5, 0])); // version 5, no authentication
      client.once('data', (request) => {
        const { host, port } = destination(request);
        log.asked.push(`SOCKS5 ${host}:${port}`);
        const address = net.isIP(host) ? host : hosts[host];
        if (address === undefined) {
          client.end(Buffer.from([5, 4, 0, 1, 0, 0, 0, 0, 0, 0])); // host unreachable
          return;
        }
        const upstream = net.connect(port, address, () => {
          client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
          upstream.pipe(client);
          client.pipe(upstream);
        });
        upstream.on('error', () => client.destroy());
      });
    });
  });
  const port = await listenForTest(t, server);
  return Object.assign(log, { url: `socks5h://127.0.0.1:${port}`, port });
}

/** The destination of a SOCKS5 CONNECT request: an IPv4 address (type 1) or a name (type 3). */
function destination(request: Buffer): { host: string; port: number } {
  if (request[3] === 1) {
    return { host: [...request.subarray(4, 8)].join('.'), port: request.readUInt16BE(8) };
  }
  const length = request[4];
  return { host: request.subarray(5, 5 + length).toString(), port: request.readUInt16BE(5 + length) };
}
