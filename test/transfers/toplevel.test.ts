import test from 'ava';
import { lastValueFrom, toArray } from 'rxjs';
import { defaultCurl } from '../../src/api/defaultCurl.js';
import { CurlError, request, transfer } from '../../src/index.js';
import { sha256, useServer } from '../helpers/servers.js';

// The default Curl lives as long as the process; close it once this file is done.
test.after.always(() => defaultCurl().close());

test('top-level request() works on the lazily created default Curl', async (t) => {
  const server = await useServer(t, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url }));
  });
  const response = await lastValueFrom(request(`${server.url}/hello?x=1`));
  t.is(response.status, 200);
  t.deepEqual(response.json(), { method: 'GET', url: '/hello?x=1' });
  const posted = await lastValueFrom(request({ url: `${server.url}/p`, json: { a: 1 } }));
  t.deepEqual(posted.json(), { method: 'POST', url: '/p' });
});

test('top-level transfer() works and shares the same default Curl', async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.end('streamed');
  });
  const events = await lastValueFrom(transfer(`${server.url}/`).pipe(toArray()));
  t.deepEqual(
    events.map((e) => e.type),
    ['response', 'data', 'done'],
  );
  const data = events.find((e) => e.type === 'data');
  t.is(data?.type === 'data' ? sha256(data.chunk) : '', sha256('streamed'));
  t.is(defaultCurl(), defaultCurl());
});

test('top-level request() reports bad input on the Observable', async (t) => {
  const error = await t.throwsAsync(lastValueFrom(request('no scheme here')), { instanceOf: CurlError });
  t.is(error.code, 'INVALID_INPUT');
});
