import test, { type ExecutionContext } from 'ava';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { startTcpServer, useCurl, useServer } from '../helpers/servers.js';

/** Answers with the request headers it received, as JSON, and sets some repeated headers. */
function serveHeaders(t: ExecutionContext) {
  return useServer(t, (req, res) => {
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    res.setHeader('X-Repeated', ['one', 'two', 'three']);
    res.setHeader('X-Single', 'only');
    res.setHeader('X-MiXeD-CaSe', 'value');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headersDistinct));
  });
}

test('repeated response headers come as arrays in order, names lower-cased', async (t) => {
  const server = await serveHeaders(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request(`${server.url}/`));
  t.deepEqual(response.headers['set-cookie'], ['a=1', 'b=2']);
  t.deepEqual(response.headers['x-repeated'], ['one', 'two', 'three']);
  t.is(response.headers['x-single'], 'only');
  t.is(response.headers['x-mixed-case'], 'value');
  t.is(response.headers['content-type'], 'application/json');
  for (const name of Object.keys(response.headers)) t.is(name, name.toLowerCase());
});

test('the transfer response event carries the same headers', async (t) => {
  const server = await serveHeaders(t);
  const curl = useCurl(t);
  const buffered = await lastValueFrom(curl.request(`${server.url}/`));
  const first = await firstValueFrom(curl.transfer(`${server.url}/`));
  t.is(first.type, 'response');
  // Two responses: their Date headers differ when a second boundary falls between them.
  const { date: _a, ...streamed } = first.type === 'response' ? first.headers : {};
  const { date: _b, ...whole } = buffered.headers;
  t.deepEqual(streamed, whole);
});

test('request headers: object, arrays and pairs reach the server', async (t) => {
  const server = await serveHeaders(t);
  const curl = useCurl(t);
  const fromObject = await lastValueFrom(
    curl.request({ url: `${server.url}/`, headers: { 'X-One': '1', 'X-Many': ['a', 'b'] } }),
  );
  const seen = fromObject.json<Record<string, string[]>>();
  t.deepEqual(seen['x-one'], ['1']);
  t.deepEqual(seen['x-many'], ['a', 'b']);

  const fromPairs = await lastValueFrom(
    curl.request({
      url: `${server.url}/`,
      headers: new Map([
        ['X-Pair', 'p'],
        ['X-Empty', ''],
        ['Accept', 'text/x-test'],
      ]),
    }),
  );
  const seen2 = fromPairs.json<Record<string, string[]>>();
  t.deepEqual(seen2['x-pair'], ['p']);
  t.deepEqual(seen2.accept, ['text/x-test']);
  t.deepEqual(seen2['x-empty'], [''], 'a header with an empty value is sent, not dropped');
  t.false('x-one' in seen2, 'headers of an earlier request on a reused handle are gone');
});

test('the default user agent names rxcurl and libcurl; userAgent replaces it', async (t) => {
  const server = await serveHeaders(t);
  const curl = useCurl(t);
  const plain = (await lastValueFrom(curl.request(`${server.url}/`))).json<Record<string, string[]>>();
  t.regex(plain['user-agent'][0], /^rxcurl\/\S+ libcurl\/\d+\.\d+\.\d+$/);
  const custom = (await lastValueFrom(curl.request({ url: `${server.url}/`, userAgent: 'tester/1' }))).json<
    Record<string, string[]>
  >();
  t.deepEqual(custom['user-agent'], ['tester/1']);
});

test('Curl defaults are merged into every request; a request header replaces a default one', async (t) => {
  const server = await serveHeaders(t);
  const curl = useCurl(t, { defaults: { headers: { 'X-Default': 'd', 'X-Both': 'default' } } });
  const seen = (
    await lastValueFrom(curl.request({ url: `${server.url}/`, headers: { 'x-both': 'request' } }))
  ).json<Record<string, string[]>>();
  t.deepEqual(seen['x-default'], ['d']);
  t.deepEqual(seen['x-both'], ['request']);
});

test('an empty response header value is an empty string (libcurl 7.88 leaves its CR)', async (t) => {
  const server = await startTcpServer((socket) => {
    socket.once('data', () =>
      socket.end(
        'HTTP/1.1 200 OK\r\nX-Empty: \r\nX-Bare:\r\nX-Padded:   v  \r\nContent-Length: 2\r\nConnection: close\r\n\r\nok',
      ),
    );
  });
  t.teardown(() => server.close());
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request(`${server.url}/`));
  t.is(response.headers['x-empty'], '');
  t.is(response.headers['x-bare'], '');
  t.is(response.headers['x-padded'], 'v');
  t.is(response.text(), 'ok');
});
