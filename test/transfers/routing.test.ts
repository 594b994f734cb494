import http from 'node:http';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { CurlError } from '../../src/index.js';
import { startTcpServer, useCurl, useServer, useTempDir } from '../helpers/servers.js';

/** Answers with the Host header it got. */
const answerHost: http.RequestListener = (req, res) => {
  res.end(`host ${req.headers.host}`);
};

test('resolve: a name that does not exist reaches the server at the address given', async (t) => {
  const server = await useServer(t, answerHost);
  const curl = useCurl(t);
  const url = `http://nowhere.invalid:${server.port}/`;
  const response = await lastValueFrom(
    curl.request({ url, resolve: [`nowhere.invalid:${server.port}:127.0.0.1`] }),
  );
  t.is(response.text(), `host nowhere.invalid:${server.port}`);
  t.is(response.result.primaryIp, '127.0.0.1');
  t.is(server.requests.length, 1);
});

test('without resolve the same name does not resolve: CurlError 6', async (t) => {
  const curl = useCurl(t);
  const error = await t.throwsAsync(lastValueFrom(curl.request('http://nowhere.invalid:9/')));
  t.true(error instanceof CurlError);
  t.is((error as CurlError).code, 6);
});

test('curlOptions RESOLVE as a string[] reaches the server too', async (t) => {
  const server = await useServer(t, answerHost);
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({
      url: `http://elsewhere.invalid:${server.port}/`,
      // Two entries: the list is passed whole, not only its first item.
      curlOptions: { RESOLVE: ['unused.invalid:1:127.0.0.1', `elsewhere.invalid:${server.port}:127.0.0.1`] },
    }),
  );
  t.is(response.text(), `host elsewhere.invalid:${server.port}`);
});

test('resolve with several addresses, IPv6 in brackets among them: the first is used', async (t) => {
  const server = await useServer(t, answerHost);
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({
      url: `http://two.invalid:${server.port}/`,
      resolve: [`two.invalid:${server.port}:127.0.0.1,[::1]`],
    }),
  );
  t.is(response.text(), `host two.invalid:${server.port}`);
  t.is(response.result.primaryIp, '127.0.0.1');
});

test('connectTo: the URL names one host and port, the connection goes to the server', async (t) => {
  const server = await useServer(t, answerHost);
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({
      url: 'http://api.invalid:4/',
      connectTo: [`api.invalid:4:127.0.0.1:${server.port}`],
    }),
  );
  t.is(response.text(), 'host api.invalid:4', 'the Host header is the URL’s');
  t.is(response.result.primaryPort, server.port);
});

test('connectTo with empty parts matches any host and port', async (t) => {
  const server = await useServer(t, answerHost);
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: 'http://any.invalid:5/', connectTo: [`::127.0.0.1:${server.port}`] }),
  );
  t.is(response.text(), 'host any.invalid:5');
});

/** An HTTP server listening on a Unix socket in a temporary folder; closed when the test ends. */
async function useUnixServer(t: ExecutionContext, handler: http.RequestListener): Promise<string> {
  const path = join(useTempDir(t), 'http.sock');
  const server = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return path;
}

test('unixSocket: the request goes to a server on a Unix socket', async (t) => {
  const path = await useUnixServer(t, answerHost);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: 'http://local.invalid/x', unixSocket: path }));
  t.is(response.status, 200);
  t.is(response.text(), 'host local.invalid');
});

test('unixSocket to a path where nothing listens fails with CurlError 7', async (t) => {
  const curl = useCurl(t);
  const error = await t.throwsAsync(
    lastValueFrom(curl.request({ url: 'http://local.invalid/', unixSocket: join(useTempDir(t), 'none') })),
  );
  t.is((error as CurlError).code, 7);
});

test('curlOptions HTTP200ALIASES: another list option reaches libcurl', async (t) => {
  // An old SHOUTcast-style status line that libcurl takes for HTTP only when it is an alias.
  const server = await startTcpServer((socket) => {
    socket.once('data', () => socket.end('ICY 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  });
  t.teardown(() => server.close());
  const curl = useCurl(t);
  const request = (aliases?: string[]) =>
    lastValueFrom(
      curl.request({ url: `${server.url}/`, curlOptions: aliases ? { HTTP200ALIASES: aliases } : {} }),
    );
  const response = await request(['ICY 200 OK']);
  t.is(response.status, 200);
  t.is(response.text(), 'ok');
  // Without the alias libcurl reads it as an HTTP/0.9 answer, which it refuses by default.
  const error = await t.throwsAsync(request());
  t.like(error, { code: 1, codeName: 'CURLE_UNSUPPORTED_PROTOCOL' });
});
