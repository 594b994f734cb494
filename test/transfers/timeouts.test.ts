import test from 'ava';
import { lastValueFrom } from 'rxjs';
import { CurlError } from '../../src/index.js';
import { startTcpServer, useCurl, useServer } from '../helpers/servers.js';

test('auth sends HTTP basic credentials', async (t) => {
  const server = await useServer(t, (req, res) => {
    res.end(req.headers.authorization ?? 'none');
  });
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/`, auth: { username: 'alice', password: 'p:ss wörd' } }),
  );
  t.is(response.text(), `Basic ${Buffer.from('alice:p:ss wörd').toString('base64')}`);
  const without = await lastValueFrom(curl.request(`${server.url}/`));
  t.is(without.text(), 'none', 'credentials do not stick to a reused handle');
});

test('proxy sends the request through the proxy with the absolute URL', async (t) => {
  const proxy = await useServer(t, (req, res) => {
    res.end(`proxied ${req.method} ${req.url} host=${req.headers.host}`);
  });
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: 'http://origin.invalid:8080/path?q=1', proxy: proxy.url }),
  );
  t.is(response.text(), 'proxied GET http://origin.invalid:8080/path?q=1 host=origin.invalid:8080');
  t.is(response.result.primaryPort, proxy.port);
});

test('cookies: true keeps cookies between the transfers of a Curl, and only of that Curl', async (t) => {
  const server = await useServer(t, (req, res) => {
    if (req.url === '/set') res.setHeader('set-cookie', 'session=abc; Path=/');
    res.end(req.headers.cookie ?? 'no cookie');
  });
  const withCookies = useCurl(t, { cookies: true });
  const without = useCurl(t);
  await lastValueFrom(withCookies.request(`${server.url}/set`));
  t.is((await lastValueFrom(withCookies.request(`${server.url}/read`))).text(), 'session=abc');
  await lastValueFrom(without.request(`${server.url}/set`));
  t.is(
    (await lastValueFrom(without.request(`${server.url}/read`))).text(),
    'no cookie',
    'cookies are off by default',
  );
  const other = useCurl(t, { cookies: true });
  t.is((await lastValueFrom(other.request(`${server.url}/read`))).text(), 'no cookie');
});

test('a response head that arrives, then nothing, is cut by timeoutMs with the response already emitted', async (t) => {
  const server = await startTcpServer((socket) => {
    socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf'));
  });
  t.teardown(() => server.close());
  const curl = useCurl(t);
  const events: string[] = [];
  const error = await new Promise<unknown>((resolve) => {
    curl.transfer({ url: `${server.url}/`, timeoutMs: 150 }).subscribe({
      next: (e) => events.push(e.type),
      error: resolve,
      complete: () => resolve(undefined),
    });
  });
  t.true(error instanceof CurlError);
  t.like(error, { code: 28 });
  t.deepEqual(events, ['response', 'data']);
});

test('several timeouts at once each fire, in order of their deadline', async (t) => {
  const server = await startTcpServer((socket) => {
    socket.resume();
  });
  t.teardown(() => server.close());
  const curl = useCurl(t);
  const order: number[] = [];
  curl.results$.subscribe((r) => order.push(Number(new URL(r.url).pathname.slice(1))));
  const timeouts = [300, 100, 200];
  const errors = await Promise.all(
    timeouts.map((ms) =>
      lastValueFrom(curl.request({ url: `${server.url}/${ms}`, timeoutMs: ms })).then(
        () => undefined,
        (e: unknown) => e,
      ),
    ),
  );
  t.true(errors.every((e) => e instanceof CurlError && e.code === 28));
  t.deepEqual(order, [100, 200, 300]);
  t.false(curl.stats().timerArmed);
});
