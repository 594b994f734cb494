import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { randomPayload, sha256, useCurl, useServer } from '../helpers/servers.js';

const payload = randomPayload(1000);

/** Honours a single `Range: bytes=a-b`; echoes the user agent. */
function serveRanges(t: ExecutionContext) {
  return useServer(t, (req, res) => {
    res.setHeader('x-user-agent', req.headers['user-agent'] ?? '');
    const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (!match) {
      res.writeHead(200, { 'content-length': payload.length }).end(payload);
      return;
    }
    const [from, to] = [Number(match[1]), Number(match[2])];
    res.writeHead(206, {
      'content-range': `bytes ${from}-${to}/${payload.length}`,
      'content-length': to - from + 1,
    });
    res.end(payload.subarray(from, to + 1));
  });
}

test('curlOptions RANGE asks for a byte range', async (t) => {
  const server = await serveRanges(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/`, curlOptions: { RANGE: '10-19' } }),
  );
  t.is(server.requests[0].headers.range, 'bytes=10-19');
  t.is(response.status, 206);
  t.is(response.body.length, 10);
  t.is(sha256(response.body), sha256(payload.subarray(10, 20)));
});

test('curlOptions accepts the CURLOPT_ prefix: USERAGENT is seen by the server', async (t) => {
  const server = await serveRanges(t);
  const curl = useCurl(t);
  const plain = await lastValueFrom(
    curl.request({ url: `${server.url}/`, curlOptions: { USERAGENT: 'x-agent' } }),
  );
  t.is(plain.headers['x-user-agent'], 'x-agent');
  const prefixed = await lastValueFrom(
    curl.request({ url: `${server.url}/`, curlOptions: { CURLOPT_USERAGENT: 'y-agent' } }),
  );
  t.is(prefixed.headers['x-user-agent'], 'y-agent');
});

test('a boolean curlOption: FOLLOWLOCATION false overrides the default', async (t) => {
  const server = await useServer(t, (req, res) => {
    if (req.url === '/from') res.writeHead(301, { location: '/to' }).end();
    else res.end('to');
  });
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/from`, curlOptions: { FOLLOWLOCATION: false } }),
  );
  t.is(response.status, 301);
  t.is(server.requests.length, 1);
});

test('a numeric curlOption: MAXFILESIZE makes libcurl refuse a larger body', async (t) => {
  const server = await serveRanges(t);
  const curl = useCurl(t);
  const error = await t.throwsAsync(
    lastValueFrom(curl.request({ url: `${server.url}/`, curlOptions: { MAXFILESIZE: 100 } })),
  );
  t.like(error, { code: 63, codeName: 'CURLE_FILESIZE_EXCEEDED' });
});

test('a curlOption and a typed field for the same option: curlOptions wins, on a fresh handle and a reused one', async (t) => {
  const server = await useServer(t, (req, res) => res.end(req.headers['user-agent']));
  const curl = useCurl(t);
  // The typed value changes from request to request and the curlOption does not: a reused handle
  // that skipped the unchanged curlOption would send the typed one.
  for (const userAgent of ['typed-1', 'typed-2', 'typed-3']) {
    const request = { url: `${server.url}/ua`, userAgent, curlOptions: { USERAGENT: 'escape-hatch' } };
    t.is((await lastValueFrom(curl.request(request))).text(), 'escape-hatch');
  }
  t.is(curl.stats().pooledHandles + curl.stats().easyHandles, 1, 'one handle served all three');
});
