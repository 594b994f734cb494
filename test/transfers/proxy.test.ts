import http from 'node:http';
import net from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { makePki, startHttpsServer } from '../helpers/pki.js';
import { listenForTest, useCurl, useServer } from '../helpers/servers.js';

const pki = makePki();
test.after.always(() => pki.dispose());

interface ForwardProxy {
  url: string;
  port: number;
  /** 'GET http://host:port/path' for forwarded requests, 'CONNECT host:port' for tunnels. */
  seen: string[];
  /** The Proxy-Authorization header of each request, '' when absent. */
  proxyAuth: string[];
}

/**
 * A small HTTP forward proxy: absolute-URI requests are forwarded (to hosts under .invalid, which
 * resolve nowhere, the proxy answers itself), CONNECT is tunnelled.
 */
async function useProxy(t: ExecutionContext): Promise<ForwardProxy> {
  const seen: string[] = [];
  const proxyAuth: string[] = [];
  // Tunnels' upstream connections; the proxy's own connections are closed by listenForTest.
  const upstreams = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    proxyAuth.push(req.headers['proxy-authorization'] ?? '');
    const target = new URL(req.url ?? '');
    if (target.hostname.endsWith('.invalid')) {
      res.end(`the proxy answered ${req.method} ${req.url} host=${req.headers.host}`);
      return;
    }
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
  return { url: `http://127.0.0.1:${port}`, port, seen, proxyAuth };
}

/** The user and password of a Basic authorization header, '' for none. */
function basicCredentials(header: string): string {
  const match = /^Basic (.+)$/.exec(header);
  return match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
}

test('an http target goes through the proxy as an absolute-URI request', async (t) => {
  const proxy = await useProxy(t);
  const target = await useServer(t, (req, res) =>
    res.end(`origin saw ${req.url} via ${req.headers.via} host=${req.headers.host}`),
  );
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${target.url}/hello?x=1`, proxy: proxy.url }));
  t.is(response.status, 200);
  t.is(response.text(), `origin saw /hello?x=1 via 1.1 test-proxy host=127.0.0.1:${target.port}`);
  t.deepEqual(proxy.seen, [`GET ${target.url}/hello?x=1`]);
  t.is(response.result.primaryPort, proxy.port, 'libcurl connected to the proxy, not to the origin');
});

test('the target host name goes to the proxy unresolved', async (t) => {
  const proxy = await useProxy(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: 'http://origin.invalid:8080/path?q=1', proxy: proxy.url }),
  );
  t.is(
    response.text(),
    'the proxy answered GET http://origin.invalid:8080/path?q=1 host=origin.invalid:8080',
  );
  t.is(response.result.primaryPort, proxy.port);
});

test('credentials in the proxy URL go to the proxy as Proxy-Authorization Basic, and only with that request', async (t) => {
  const proxy = await useProxy(t);
  const originAuth: Array<string | undefined> = [];
  const target = await startHttpsServer(pki, (req, res) => {
    originAuth.push(req.headers['proxy-authorization']);
    res.end(`tls origin ${req.url}`);
  });
  t.teardown(() => target.close());
  const plain = await useServer(t, (req, res) => res.end(`origin ${req.url}`));
  const curl = useCurl(t);
  // Percent-encoded in the URL, as a URL needs; libcurl decodes them.
  const withCredentials = new URL(proxy.url);
  withCredentials.username = 'bob';
  withCredentials.password = 'pr0xy p@ss:w';
  t.regex(withCredentials.href, /^http:\/\/bob:pr0xy%20p%40ss%3Aw@127\.0\.0\.1:\d+\/$/);

  const forwarded = await lastValueFrom(curl.request({ url: `${plain.url}/a`, proxy: withCredentials.href }));
  t.is(forwarded.text(), 'origin /a');
  const tunnelled = await lastValueFrom(
    curl.request({ url: `${target.url}/b`, proxy: withCredentials.href, tls: { ca: pki.ca } }),
  );
  t.is(tunnelled.text(), 'tls origin /b');
  const anonymous = await lastValueFrom(curl.request({ url: `${plain.url}/c`, proxy: proxy.url }));
  t.is(anonymous.text(), 'origin /c');

  t.deepEqual(proxy.seen, [`GET ${plain.url}/a`, `CONNECT 127.0.0.1:${target.port}`, `GET ${plain.url}/c`]);
  t.deepEqual(proxy.proxyAuth.map(basicCredentials), ['bob:pr0xy p@ss:w', 'bob:pr0xy p@ss:w', '']);
  t.deepEqual(originAuth, [undefined], 'the credentials are not sent inside the tunnel');
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
