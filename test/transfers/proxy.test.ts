// Proxies, on real libcurl: an HTTP proxy forwarding requests (the host name unresolved, credentials
// from the URL), a CONNECT tunnel to an HTTPS server,
// Basic credentials, a proxy reached over TLS, hosts reached directly, SOCKS5 with the name resolved
// by the proxy, and the environment variables curl reads when `proxy` is unset. Serial: the
// environment is the process's.
import test from 'ava';
import { lastValueFrom } from 'rxjs';
import { CurlError, type CurlRequest } from '../../src/index.js';
import { makePki, startHttpsServer } from '../helpers/pki.js';
import { useHttpProxy, useSocks5Proxy } from '../helpers/proxies.js';
import { useCurl, useServer } from '../helpers/servers.js';

const PROXY_VARIABLES = [
  'http_proxy',
  'HTTP_PROXY',
  'https_proxy',
  'HTTPS_PROXY',
  'all_proxy',
  'ALL_PROXY',
  'no_proxy',
  'NO_PROXY',
];
const saved = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, process.env[name]]));
const clearEnvironment = () => {
  for (const name of PROXY_VARIABLES) delete process.env[name];
};
test.beforeEach(clearEnvironment);
test.after.always(() => {
  clearEnvironment();
  for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value;
});

const pki = makePki();
test.after.always(() => pki.dispose());

async function useTarget(t: Parameters<typeof useServer>[0]) {
  return useServer(t, (req, res) => res.end(`target saw ${req.url}`));
}

/** The user and password of a Basic authorization header, '' for none. */
function basicCredentials(header: string): string {
  const match = /^Basic (.+)$/.exec(header);
  return match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
}

test.serial('an http target goes through the proxy as an absolute-URI request', async (t) => {
  const proxy = await useHttpProxy(t);
  const target = await useServer(t, (req, res) =>
    res.end(`origin saw ${req.url} via ${req.headers.via} host=${req.headers.host}`),
  );
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${target.url}/hello?x=1`, proxy: proxy.url }));
  t.is(response.status, 200);
  t.is(response.text(), `origin saw /hello?x=1 via 1.1 test-proxy host=127.0.0.1:${target.port}`);
  t.deepEqual(proxy.asked, [`GET ${target.url}/hello?x=1`]);
  t.is(response.result.primaryPort, proxy.port, 'libcurl connected to the proxy, not to the origin');
});

test.serial('the target host name goes to the proxy unresolved', async (t) => {
  const proxy = await useHttpProxy(t);
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

test.serial(
  'credentials in the proxy URL go to the proxy as Proxy-Authorization Basic, and only with that request',
  async (t) => {
    const proxy = await useHttpProxy(t);
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

    const forwarded = await lastValueFrom(
      curl.request({ url: `${plain.url}/a`, proxy: withCredentials.href }),
    );
    t.is(forwarded.text(), 'origin /a');
    const tunnelled = await lastValueFrom(
      curl.request({ url: `${target.url}/b`, proxy: withCredentials.href, tls: { ca: pki.ca } }),
    );
    t.is(tunnelled.text(), 'tls origin /b');
    const anonymous = await lastValueFrom(curl.request({ url: `${plain.url}/c`, proxy: proxy.url }));
    t.is(anonymous.text(), 'origin /c');

    t.deepEqual(proxy.asked, [
      `GET ${plain.url}/a`,
      `CONNECT 127.0.0.1:${target.port}`,
      `GET ${plain.url}/c`,
    ]);
    t.deepEqual(proxy.credentials.map(basicCredentials), ['bob:pr0xy p@ss:w', 'bob:pr0xy p@ss:w', '']);
    t.deepEqual(originAuth, [undefined], 'the credentials are not sent inside the tunnel');
  },
);

test.serial('an https target is tunnelled through the proxy with CONNECT', async (t) => {
  const proxy = await useHttpProxy(t);
  const target = await startHttpsServer(pki, (req, res) => res.end(`tls origin ${req.url}`));
  t.teardown(() => target.close());
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${target.url}/secret`, proxy: proxy.url, tls: { ca: pki.ca } }),
  );
  t.is(response.text(), 'tls origin /secret');
  t.deepEqual(proxy.asked, [`CONNECT 127.0.0.1:${target.port}`]);
});

test.serial(
  'without the proxy option the request goes direct, also on a handle that used a proxy before',
  async (t) => {
    const proxy = await useHttpProxy(t);
    const target = await useServer(t, (req, res) => res.end(req.headers.via ? 'proxied' : 'direct'));
    const curl = useCurl(t);
    const proxied = await lastValueFrom(curl.request({ url: `${target.url}/a`, proxy: proxy.url }));
    t.is(proxied.text(), 'proxied');
    const response = await lastValueFrom(curl.request(`${target.url}/b`));
    t.is(response.text(), 'direct');
    t.deepEqual(proxy.asked, [`GET ${target.url}/a`]);
  },
);

test.serial('proxy credentials: a 407 without them, the request through with them', async (t) => {
  const target = await useTarget(t);
  const proxy = await useHttpProxy(t, { auth: { username: 'me', password: 's3cret' } });
  const curl = useCurl(t);
  const refused = await lastValueFrom(curl.request({ url: `${target.url}/x`, proxy: proxy.url }));
  t.is(refused.status, 407);
  const res = await lastValueFrom(
    curl.request({
      url: `${target.url}/x`,
      proxy: { url: proxy.url, auth: { username: 'me', password: 's3cret' } },
    }),
  );
  t.is(res.status, 200);
  t.is(res.text(), 'target saw /x');
  t.deepEqual(proxy.credentials, ['', `Basic ${Buffer.from('me:s3cret').toString('base64')}`]);
});

test.serial("a proxy reached over TLS is verified with proxy.tls, not with the server's tls", async (t) => {
  const target = await useTarget(t);
  const proxy = await useHttpProxy(t, { pki });
  const curl = useCurl(t);
  const res = await lastValueFrom(
    curl.request({ url: `${target.url}/over-tls`, proxy: { url: proxy.url, tls: { caFile: pki.caFile } } }),
  );
  t.is(res.text(), 'target saw /over-tls');
  const unverified = await t.throwsAsync(
    lastValueFrom(
      curl.request({ url: `${target.url}/no-ca`, proxy: proxy.url, tls: { caFile: pki.caFile } }),
    ),
    { instanceOf: CurlError },
  );
  t.is(unverified?.codeName, 'CURLE_PEER_FAILED_VERIFICATION');
  t.deepEqual(proxy.asked, [`GET ${target.url}/over-tls`]);
});

test.serial('noProxy: the hosts listed are reached directly', async (t) => {
  const target = await useTarget(t);
  const proxy = await useHttpProxy(t);
  const res = await lastValueFrom(
    useCurl(t).request({
      url: `${target.url}/direct`,
      proxy: { url: proxy.url, noProxy: ['localhost', '127.0.0.1'] },
    }),
  );
  t.is(res.text(), 'target saw /direct');
  t.deepEqual(proxy.asked, []);
});

test.serial(
  'socks5h://: the proxy resolves the name, so a name only the proxy knows is reached',
  async (t) => {
    const target = await useTarget(t);
    const socks = await useSocks5Proxy(t, { 'only-the-proxy-knows.invalid': '127.0.0.1' });
    const url = `http://only-the-proxy-knows.invalid:${target.port}/named`;
    const res = await lastValueFrom(useCurl(t).request({ url, proxy: socks.url }));
    t.is(res.text(), 'target saw /named');
    t.deepEqual(socks.asked, [`SOCKS5 only-the-proxy-knows.invalid:${target.port}`]);
  },
);

test.serial(
  'unset, the environment decides as for curl: http_proxy in lower case only, for http:// URLs',
  async (t) => {
    const target = await useTarget(t);
    const proxy = await useHttpProxy(t);
    const curl = useCurl(t);
    process.env.HTTP_PROXY = proxy.url; // curl ignores it: a CGI program gets HTTP_PROXY from a request header
    await lastValueFrom(curl.request(`${target.url}/upper`));
    t.deepEqual(proxy.asked, []);
    process.env.http_proxy = proxy.url;
    await lastValueFrom(curl.request(`${target.url}/lower`));
    t.deepEqual(proxy.asked, [`GET ${target.url}/lower`]);
  },
);

test.serial(
  'unset: HTTPS_PROXY for https:// URLs, ALL_PROXY for any, NO_PROXY for the hosts reached directly',
  async (t) => {
    const target = await useTarget(t);
    const server = await startHttpsServer(pki, (_req, res) => res.end('secure'));
    t.teardown(() => server.close());
    const proxy = await useHttpProxy(t);
    const curl = useCurl(t);
    process.env.HTTPS_PROXY = proxy.url;
    await lastValueFrom(curl.request({ url: `${server.url}/`, tls: { caFile: pki.caFile } }));
    await lastValueFrom(curl.request(`${target.url}/not-https`));
    t.deepEqual(proxy.asked, [`CONNECT 127.0.0.1:${server.port}`]);
    delete process.env.HTTPS_PROXY;
    process.env.ALL_PROXY = proxy.url;
    await lastValueFrom(curl.request(`${target.url}/all`));
    process.env.NO_PROXY = '127.0.0.1';
    await lastValueFrom(curl.request(`${target.url}/listed`));
    t.deepEqual(proxy.asked, [`CONNECT 127.0.0.1:${server.port}`, `GET ${target.url}/all`]);
  },
);

test.serial('proxy: false ignores the environment', async (t) => {
  const target = await useTarget(t);
  const proxy = await useHttpProxy(t);
  process.env.http_proxy = proxy.url;
  process.env.ALL_PROXY = proxy.url;
  const res = await lastValueFrom(useCurl(t).request({ url: `${target.url}/off`, proxy: false }));
  t.is(res.text(), 'target saw /off');
  t.deepEqual(proxy.asked, []);
});

test.serial('bad proxy values are INVALID_INPUT naming the field', async (t) => {
  const curl = useCurl(t);
  const cases: [CurlRequest['proxy'], string][] = [
    [true as never, 'proxy must be a URL, false or { url, auth?, tls?, noProxy? }, got true'],
    [
      'ftp://127.0.0.1:21',
      'proxy must be a proxy URL (http, https, socks4, socks4a, socks5 or socks5h), got "ftp://127.0.0.1:21"',
    ],
    [{} as never, 'proxy.url is required'],
    [
      { url: 'http://p:1', noProxy: 'a,b' as never },
      'proxy.noProxy must be an array of host names, got "a,b"',
    ],
    [
      { url: 'http://p:1', noProxy: ['a,b'] },
      'proxy.noProxy[0] must be a host name without spaces or commas',
    ],
    [{ url: 'http://p:1', auth: { username: 'u' } as never }, 'proxy.auth needs both username and password'],
    [{ url: 'http://p:1', tls: { ca: 5 } as never }, 'proxy.tls.ca must be PEM text or bytes'],
    ['http://p:1\r\nX: y', 'proxy must not contain CR, LF or NUL'],
  ];
  for (const [proxy, message] of cases) {
    const error = await t.throwsAsync(lastValueFrom(curl.request({ url: 'http://127.0.0.1:1/', proxy })), {
      instanceOf: CurlError,
    });
    t.is(error?.code, 'INVALID_INPUT');
    t.is(error?.message, `invalid request: ${message}`);
  }
});
