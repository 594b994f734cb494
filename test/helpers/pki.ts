// A test PKI made with the openssl command line: a CA, a server certificate for 127.0.0.1 and
// localhost, and a client certificate; plus HTTPS and HTTP/2 servers that use them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** openssl req arguments for a new P-256 key, unencrypted. */
const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface Pki {
  dir: string;
  /** The CA certificate, PEM, and its path. */
  ca: string;
  caFile: string;
  serverKey: string;
  serverCert: string;
  /** Common name of the client certificate. */
  clientName: string;
  clientKey: string;
  clientCert: string;
  clientKeyFile: string;
  clientCertFile: string;
  dispose(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Key and certificate signed by the CA in `dir`; `ext` is the X.509 v3 extensions section. */
function issue(dir: string, name: string, subject: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    ['req', '-new', ...NEW_EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-out',
      `${name}.crt`,
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
}

/** Makes a fresh CA, server and client certificate in a temporary folder. Needs the openssl CLI. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'rxcurl-pki-'));
  try {
    openssl(
      [
        'req',
        '-x509',
        ...NEW_EC_KEY,
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '2',
        '-subj',
        '/CN=rxcurl test CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    issue(
      dir,
      'server',
      '/CN=127.0.0.1',
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '',
      ].join('\n'),
    );
    issue(
      dir,
      'client',
      '/CN=rxcurl-test-client',
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=clientAuth',
        '',
      ].join('\n'),
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    ca: read('ca.crt'),
    caFile: join(dir, 'ca.crt'),
    serverKey: read('server.key'),
    serverCert: read('server.crt'),
    clientName: 'rxcurl-test-client',
    clientKey: read('client.key'),
    clientCert: read('client.crt'),
    clientKeyFile: join(dir, 'client.key'),
    clientCertFile: join(dir, 'client.crt'),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface SecureServer<S extends net.Server> {
  /** 'https://127.0.0.1:<port>' (or 'http://' for a clear-text HTTP/2 server), no trailing slash. */
  url: string;
  port: number;
  server: S;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

function listen<S extends net.Server>(server: S, scheme: string): Promise<SecureServer<S>> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  // 'connection' sees every TCP connection, TLS or not.
  server.on('connection', (socket: net.Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      let closing: Promise<void> | undefined;
      resolve({
        url: `${scheme}://127.0.0.1:${port}`,
        port,
        server,
        connections: () => accepted,
        close: () => {
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          });
          return closing;
        },
      });
    });
  });
}

/** An HTTPS/1.1 server with the PKI's server certificate. */
export function startHttpsServer(
  pki: Pki,
  handler: http.RequestListener,
  options: https.ServerOptions = {},
): Promise<SecureServer<https.Server>> {
  const server = https.createServer({ key: pki.serverKey, cert: pki.serverCert, ...options }, handler);
  return listen(server, 'https');
}

/**
 * An HTTP/2 TLS server with the PKI's server certificate: HTTP/2 only (no HTTP/1.1 fallback) unless
 * `options` say `allowHTTP1: true`, then ALPN picks one.
 */
export function startHttp2SecureServer(
  pki: Pki,
  handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  options: http2.SecureServerOptions = {},
): Promise<SecureServer<http2.Http2SecureServer>> {
  const server = http2.createSecureServer(
    { key: pki.serverKey, cert: pki.serverCert, allowHTTP1: false, ...options },
    handler,
  );
  return listen(server, 'https');
}

/** A clear-text HTTP/2 server: prior knowledge only. */
export function startHttp2Server(
  handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
): Promise<SecureServer<http2.Http2Server>> {
  return listen(http2.createServer(handler), 'http');
}
