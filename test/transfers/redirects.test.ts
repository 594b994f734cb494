import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { CurlError } from '../../src/index.js';
import { useCurl, useServer } from '../helpers/servers.js';

/** /hop/<n> redirects to /hop/<n-1> (302, with an x-hop header); /hop/0 answers 'arrived'. */
function serveHops(t: ExecutionContext) {
  return useServer(t, (req, res) => {
    const match = /^\/hop\/(\d+)$/.exec(req.url ?? '');
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const n = Number(match[1]);
    if (n > 0) {
      res.writeHead(302, { location: `/hop/${n - 1}`, 'x-hop': String(n) });
      res.end(`hop ${n}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'x-final': 'yes' });
    res.end('arrived');
  });
}

test('redirects are followed and counted', async (t) => {
  const server = await serveHops(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request(`${server.url}/hop/3`));
  t.is(response.status, 200);
  t.is(response.text(), 'arrived');
  t.is(response.result.redirects, 3);
  t.is(response.result.url, `${server.url}/hop/3`);
  t.is(response.result.effectiveUrl, `${server.url}/hop/0`);
  t.is(response.url, `${server.url}/hop/0`);
  t.deepEqual(
    server.requests.map((r) => r.url),
    ['/hop/3', '/hop/2', '/hop/1', '/hop/0'],
  );
});

test('the response event is the final head: headers of the redirects are not in it', async (t) => {
  const server = await serveHops(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request(`${server.url}/hop/2`));
  t.is(response.headers['x-final'], 'yes');
  t.false('x-hop' in response.headers);
  t.false('location' in response.headers);
});

test('followRedirects: false returns the 302 itself', async (t) => {
  const server = await serveHops(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${server.url}/hop/2`, followRedirects: false }));
  t.is(response.status, 302);
  t.is(response.headers.location, '/hop/1');
  t.is(response.text(), 'hop 2');
  t.is(response.result.redirects, 0);
  t.is(response.result.effectiveUrl, `${server.url}/hop/2`);
  t.is(server.requests.length, 1);
});

test('maxRedirects exceeded is CurlError 47 (CURLE_TOO_MANY_REDIRECTS)', async (t) => {
  const server = await serveHops(t);
  const curl = useCurl(t);
  const error = await t.throwsAsync(
    lastValueFrom(curl.request({ url: `${server.url}/hop/5`, maxRedirects: 2 })),
    {
      instanceOf: CurlError,
    },
  );
  t.is(error.code, 47);
  t.is(error.codeName, 'CURLE_TOO_MANY_REDIRECTS');
  t.is(error.url, `${server.url}/hop/5`);
  t.is(error.result?.ok, false);
  t.is(server.requests.length, 3, 'the first request and two redirects');
});

test('maxRedirects equal to the number of hops is enough', async (t) => {
  const server = await serveHops(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${server.url}/hop/2`, maxRedirects: 2 }));
  t.is(response.status, 200);
  t.is(response.result.redirects, 2);
});

test('a redirect with a 303 after a POST turns into a GET', async (t) => {
  const server = await useServer(t, (req, res) => {
    if (req.url === '/form') res.writeHead(303, { location: '/done' }).end();
    else res.end(`${req.method} ${req.url}`);
  });
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${server.url}/form`, body: 'a=1' }));
  t.is(response.text(), 'GET /done');
  t.is(server.requests[0].method, 'POST');
  t.is(response.result.redirects, 1);
});
