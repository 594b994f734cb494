// The curl_slists of list options live as long as an easy handle points at them, and no longer.
// OptionLists.alive counts them over the whole process, so these tests run one at a time.
import test from 'ava';
import { lastValueFrom } from 'rxjs';
import { CurlError, type CurlRequest } from '../../src/index.js';
import { OptionLists } from '../../src/native/OptionLists.js';
import { useCurl, useServer } from '../helpers/servers.js';

test.serial('lists are freed when replaced, after a reset, and when the Curl closes', async (t) => {
  const server = await useServer(t, (_req, res) => res.end('ok'));
  const curl = useCurl(t);
  const entry = (name: string) => `${name}.invalid:${server.port}:127.0.0.1`;
  const get = (name: string, more: Partial<CurlRequest> = {}) =>
    lastValueFrom(
      curl.request({ url: `http://${name}.invalid:${server.port}/`, resolve: [entry(name)], ...more }),
    );

  t.is(OptionLists.alive, 0);
  await get('a');
  t.is(OptionLists.alive, 1, 'the pooled handle still points at its list');
  await get('b');
  t.is(OptionLists.alive, 1, 'the same shape on the pooled handle: the new list replaced the old');
  await get('b');
  t.is(OptionLists.alive, 1, 'the same list again');
  await lastValueFrom(curl.request(`${server.url}/`));
  t.is(OptionLists.alive, 0, 'another shape resets the handle: its list is freed');
  await get('c', { connectTo: [`c.invalid:${server.port}:127.0.0.1:${server.port}`] });
  t.is(OptionLists.alive, 2, 'resolve and connectTo: two lists');
  const parallel = await Promise.all([get('d'), get('e'), get('f')]);
  t.deepEqual(
    parallel.map((response) => response.text()),
    ['ok', 'ok', 'ok'],
  );
  t.like(curl.stats(), { easyHandles: 0, pooledHandles: 3 });
  t.is(OptionLists.alive, 3, 'one list per pooled handle');
  curl.close();
  t.is(OptionLists.alive, 0, 'every list freed with its handle');
});

test.serial(
  'a list set for a request that failed before it started is not used by the next request on the handle',
  async (t) => {
    const server = await useServer(t, (_req, res) => res.end('ok'));
    const curl = useCurl(t);
    const url = `http://stale.invalid:${server.port}/`;
    // RESOLVE is set, then libcurl refuses HTTP_VERSION 99: the transfer never starts, and the
    // handle goes back to the pool with its list. libcurl's reset keeps a second pointer to a
    // RESOLVE list until a transfer starts: the list must be unhooked, not only freed.
    const refused = await t.throwsAsync(
      lastValueFrom(
        curl.request({
          url,
          curlOptions: { RESOLVE: [`stale.invalid:${server.port}:127.0.0.1`], HTTP_VERSION: 99 },
        }),
      ),
    );
    t.like(refused, { code: 'INVALID_INPUT' });
    t.regex((refused as Error).message, /curlOptions\.HTTP_VERSION/);
    t.is(OptionLists.alive, 1);
    const next = await t.throwsAsync(lastValueFrom(curl.request(url)));
    t.true(next instanceof CurlError);
    t.is((next as CurlError).code, 6, 'the name was not resolved through the stale list');
    t.is(server.requests.length, 0);
    t.like(curl.stats(), { pooledHandles: 1 });
    t.is(OptionLists.alive, 0, 'the reset freed it');
    curl.close();
  },
);
