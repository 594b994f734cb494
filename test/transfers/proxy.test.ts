import http from 'node:http';
import net from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { Curl, RXCURL_VERSION } from '../../src/index.js';
import { makePki, startHttpsServer } from '../helpers/pki.js';
import { listenForTest, useCurl, useServer } from '../helpers/servers.js';

const pki = makePki();
test.after.always(() => pki.dispose());

interface ForwardProxy {
  url: string;
  /** 'GET http://host:port/path' for forwarded requests, 'CONNECT host:port' for tunnels. */
  seen: string[];
  /** The Proxy-Authorization header of each request, '' when absent. */
  proxyAuth: string[];
}

/** A small HTTP forward proxy: absolute-URI requests are forwarded, CONNECT is tunnelled. */
async function useProxy(t: ExecutionContext): Promise<ForwardProxy> {
  const seen: string[] = [];
  const proxyAuth: string[] = [];
  // Tunnels' upstream connections; the proxy's own connections are closed by listenForTest.
  const upstreams = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    proxyAuth.push(req.headers['proxy-authorization'] ?? '');
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers: { ...headers, via: '1.1 test-proxy' },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    proxyAuth.push(req.headers['proxy-authorization'] ?? '');
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
  t.teardown(() => {
    for (const upstream of upstreams) upstream.destroy();
  });
  const port = await listenForTest(t, server);
  return { url: `http://127.0.0.1:${port}`, seen, proxyAuth };
}

test('an http target goes through the proxy as an absolute-URI request', async (t) => {
  const proxy = await useProxy(t);
  const target = await useServer(t, (req, res) => res.end(`origin saw ${req.url} via ${req.headers.via}`));
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${target.url}/hello?x=1`, proxy: proxy.url }));
  t.is(response.status, 200);
  t.is(response.text(), 'origin saw /hello?x=1 via 1.1 test-proxy');
  t.deepEqual(proxy.seen, [`GET ${target.url}/hello?x=1`]);
});

test('an https target is tunnelled through the proxy with CONNECT', async (t) => {
  const proxy = await useProxy(t);
  const target = await startHttpsServer(pki, (req, res) => res.end(`tls origin ${req.url}`));
  t.teardown(() => target.close());
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${target.url}/secret`, proxy: proxy.url, tls: { ca: pki.ca } }),
  );
  t.is(response.text(), 'tls origin /secret');
  t.deepEqual(proxy.seen, [`CONNECT 127.0.0.1:${target.port}`]);
});

test('without the proxy option the request goes direct, also on a handle that used a proxy before', async (t) => {
  const proxy = await useProxy(t);
  const target = await useServer(t, (req, res) => res.end(req.headers.via ? 'proxied' : 'direct'));
  const curl = useCurl(t);
  const proxied = await lastValueFrom(curl.request({ url: `${target.url}/a`, proxy: proxy.url }));
  t.is(proxied.text(), 'proxied');
  const response = await lastValueFrom(curl.request(`${target.url}/b`));
  t.is(response.text(), 'direct');
  t.deepEqual(proxy.seen, [`GET ${target.url}/a`]);
});

test('auth sends Basic credentials in the Authorization header', async (t) => {
  const expected = `Basic ${Buffer.from('alice:s3cr:t ü').toString('base64')}`;
  const server = await useServer(t, (req, res) => {
    if (req.headers.authorization === expected) res.end('welcome alice');
    else res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end('who are you');
  });
  const curl = useCurl(t);
  const denied = await lastValueFrom(curl.request(`${server.url}/private`));
  t.is(denied.status, 401);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/private`, auth: { username: 'alice', password: 's3cr:t ü' } }),
  );
  t.is(response.status, 200);
  t.is(response.text(), 'welcome alice');
  t.is(server.requests.at(-1)?.headers.authorization, expected);
});

test('the default user agent is rxcurl/<version> libcurl/<version>; userAgent overrides it', async (t) => {
  const server = await useServer(t, (req, res) => res.end(req.headers['user-agent'] ?? '(none)'));
  const curl = useCurl(t);
  const byDefault = await lastValueFrom(curl.request(`${server.url}/`));
  t.is(byDefault.text(), `rxcurl/${RXCURL_VERSION} libcurl/${Curl.version.libcurl}`);
  const custom = await lastValueFrom(curl.request({ url: `${server.url}/`, userAgent: 'my-agent/2.0' }));
  t.is(custom.text(), 'my-agent/2.0');
  // The override does not stick to the pooled easy handle.
  const again = await lastValueFrom(curl.request(`${server.url}/`));
  t.is(again.text(), `rxcurl/${RXCURL_VERSION} libcurl/${Curl.version.libcurl}`);
});
