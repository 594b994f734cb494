// Easy handles are pooled and keep their options between transfers: a request must never inherit
// anything from the one that ran on the same handle before it. Requests one after the other run on
// one handle: the pool holds exactly one afterwards (a handle per request would leave one each).

import { gzipSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { CurlError } from '../../src/index.js';
import { delay, randomPayload, readBody, sha256, useCurl, useServer } from '../helpers/servers.js';

const payload = randomPayload(4096);

function serve(t: ExecutionContext) {
  return useServer(t, async (req, res) => {
    const body = await readBody(req).catch(() => undefined);
    if (!body) return; // the client gave up mid-body
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: '/data' }).end();
      return;
    }
    if (url.pathname === '/slow') await delay(300);
    res.setHeader('x-method', req.method ?? '');
    res.setHeader('x-user-agent', req.headers['user-agent'] ?? '');
    res.setHeader('x-custom', req.headers['x-custom'] ?? '');
    res.setHeader('x-body-sha', sha256(body));
    if (req.headers['accept-encoding']?.includes('gzip')) {
      res.setHeader('content-encoding', 'gzip');
      res.end(gzipSync(payload));
    } else {
      res.end(payload);
    }
  });
}

test('a request after HEAD, POST, PUT and custom headers on the same Curl is a clean GET', async (t) => {
  const server = await serve(t);
  const curl = useCurl(t);
  const url = `${server.url}/data`;
  const clean = async (after: string) => {
    const response = await lastValueFrom(curl.request(url));
    t.is(response.headers['x-method'], 'GET', after);
    t.is(response.headers['x-custom'], '', after);
    t.is(response.headers['x-body-sha'], sha256(''), after);
    t.regex(String(response.headers['x-user-agent']), /^rxcurl\//, after);
    t.is(sha256(response.body), sha256(payload), after);
  };
  await clean('first');
  await lastValueFrom(curl.request({ url, method: 'HEAD' }));
  await clean('after HEAD');
  await lastValueFrom(curl.request({ url, body: 'posted' }));
  await clean('after POST');
  await lastValueFrom(curl.request({ url, method: 'PUT', body: 'put' }));
  await clean('after PUT');
  await lastValueFrom(curl.request({ url, headers: { 'x-custom': 'c' }, userAgent: 'other' }));
  await clean('after custom headers');
  await lastValueFrom(curl.request({ url, curlOptions: { RANGE: '0-9' } }));
  await clean('after curlOptions RANGE');
  await lastValueFrom(curl.request({ url, decompress: false }));
  await clean('after decompress: false');
  t.is(curl.stats().pooledHandles, 1, 'all 13 requests ran on one easy handle');
  t.is(server.requests.length, 13);
});

test('two requests of the same shape with different values each get their own', async (t) => {
  const server = await serve(t);
  const curl = useCurl(t);
  for (const agent of ['a/1', 'b/2', 'a/1']) {
    const response = await lastValueFrom(
      curl.request({ url: `${server.url}/data`, userAgent: agent, headers: { 'x-custom': agent } }),
    );
    t.is(response.headers['x-user-agent'], agent);
    t.is(response.headers['x-custom'], agent);
  }
  t.is(curl.stats().pooledHandles, 1, 'the three requests ran on one easy handle');
});

test('followRedirects and timeoutMs do not stick to a handle', async (t) => {
  const server = await serve(t);
  const curl = useCurl(t);
  const noFollow = await lastValueFrom(
    curl.request({ url: `${server.url}/redirect`, followRedirects: false }),
  );
  t.is(noFollow.status, 302);
  const follow = await lastValueFrom(curl.request(`${server.url}/redirect`));
  t.is(follow.status, 200);
  const timedOut = await t.throwsAsync(
    lastValueFrom(curl.request({ url: `${server.url}/slow`, timeoutMs: 100 })),
    {
      instanceOf: CurlError,
    },
  );
  t.is(timedOut.code, 28);
  const slow = await lastValueFrom(curl.request(`${server.url}/slow`));
  t.is(slow.status, 200);
  t.is(curl.stats().pooledHandles, 1, 'the four requests ran on one easy handle');
});
