import test, { type ExecutionContext } from 'ava';
import { lastValueFrom, type Observable, type Subscription } from 'rxjs';
import { CurlError, type CurlRequest, type TransferResult } from '../../src/index.js';
import { useCurl, useServer } from '../helpers/servers.js';

/** A request the type system would refuse: these tests are about what JavaScript callers can pass. */
const loose = (request: unknown) => request as CurlRequest;

interface Case {
  title: string;
  request: (base: string) => CurlRequest | string;
  /** The message must name this field. */
  field: RegExp;
}

const cases: Case[] = [
  { title: 'a malformed URL', request: () => 'not a url', field: /\burl\b/ },
  { title: 'a URL with no scheme', request: (base) => base.replace('http://', ''), field: /\burl\b/ },
  { title: 'an empty URL', request: () => '', field: /\burl\b/ },
  { title: 'a URL with a space', request: (base) => `${base}/a b`, field: /\burl\b/ },
  { title: 'a URL with CR LF', request: (base) => `${base}/a\r\nX-Injected: 1`, field: /\burl\b/ },
  { title: 'a missing URL', request: () => loose({ method: 'GET' }), field: /\burl\b/ },
  { title: 'a request that is neither string nor object', request: () => loose(42), field: /\brequest\b/ },
  { title: 'a null request', request: () => loose(null), field: /\brequest\b/ },
  {
    title: 'CR LF in a header name',
    request: (url) => ({ url, headers: { 'X-A\r\nX-Injected': 'v' } }),
    field: /\bheaders\b/,
  },
  {
    title: 'LF in a header name given as pairs',
    request: (url) => ({ url, headers: [['X-A\nB', 'v']] }),
    field: /\bheaders\b/,
  },
  {
    title: 'a space in a header name',
    request: (url) => ({ url, headers: { 'X A': 'v' } }),
    field: /\bheaders\b/,
  },
  {
    title: 'CR LF in a header value',
    request: (url) => ({ url, headers: { 'X-A': 'v\r\nX-Injected: 1' } }),
    field: /\bheaders\.X-A\b/,
  },
  {
    title: 'LF in a header value',
    request: (url) => ({ url, headers: { 'X-A': 'v\nw' } }),
    field: /headers\.X-A/,
  },
  {
    title: 'CR in one value of a repeated header',
    request: (url) => ({ url, headers: { 'X-A': ['ok', 'bad\r'] } }),
    field: /headers\.X-A/,
  },
  {
    title: 'a header value that is not a string',
    request: (url) => loose({ url, headers: { 'X-A': { nested: true } } }),
    field: /headers\.X-A/,
  },
  {
    title: 'an unknown curlOptions name',
    request: (url) => ({ url, curlOptions: { NOT_A_REAL_OPTION: 1 } }),
    field: /curlOptions\.NOT_A_REAL_OPTION/,
  },
  {
    title: 'a curlOptions value of the wrong type',
    request: (url) => ({ url, curlOptions: { TIMEOUT_MS: 'soon' } }),
    field: /curlOptions\.TIMEOUT_MS/,
  },
  {
    title: 'a curlOptions value that is an object',
    request: (url) => loose({ url, curlOptions: { USERAGENT: { a: 1 } } }),
    field: /curlOptions\.USERAGENT/,
  },
  {
    title: 'a curlOptions string with NUL',
    request: (url) => ({ url, curlOptions: { USERAGENT: 'a\0b' } }),
    field: /curlOptions\.USERAGENT/,
  },
  { title: 'a negative timeoutMs', request: (url) => ({ url, timeoutMs: -1 }), field: /\btimeoutMs\b/ },
  { title: 'a NaN timeoutMs', request: (url) => ({ url, timeoutMs: Number.NaN }), field: /\btimeoutMs\b/ },
  {
    title: 'an infinite connectTimeoutMs',
    request: (url) => ({ url, connectTimeoutMs: Number.POSITIVE_INFINITY }),
    field: /\bconnectTimeoutMs\b/,
  },
  { title: 'a string timeoutMs', request: (url) => loose({ url, timeoutMs: '100' }), field: /\btimeoutMs\b/ },
  {
    title: 'a negative maxRedirects',
    request: (url) => ({ url, maxRedirects: -2 }),
    field: /\bmaxRedirects\b/,
  },
  { title: 'a number body', request: (url) => loose({ url, body: 42 }), field: /\bbody\b/ },
  { title: 'a plain object body', request: (url) => loose({ url, body: { a: 1 } }), field: /\bbody\b/ },
  { title: 'a boolean body', request: (url) => loose({ url, body: true }), field: /\bbody\b/ },
  { title: 'both body and json', request: (url) => ({ url, body: 'a', json: { a: 1 } }), field: /\bbody\b/ },
  { title: 'json that cannot be serialised', request: (url) => ({ url, json: () => 1 }), field: /\bjson\b/ },
  {
    title: 'json with a cycle',
    request: (url) => {
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      return { url, json: cycle };
    },
    field: /\bjson\b/,
  },
  { title: 'json with a BigInt', request: (url) => ({ url, json: { n: 1n } }), field: /\bjson\b/ },
  {
    title: 'an unknown request field',
    request: (url) => loose({ url, tiemoutMs: 5 }),
    field: /\btiemoutMs\b/,
  },
  { title: 'a method with a space', request: (url) => ({ url, method: 'GET /x' }), field: /\bmethod\b/ },
  {
    title: 'an unknown httpVersion',
    request: (url) => loose({ url, httpVersion: '4' }),
    field: /\bhttpVersion\b/,
  },
  {
    title: 'a followRedirects that is not a boolean',
    request: (url) => loose({ url, followRedirects: 'yes' }),
    field: /\bfollowRedirects\b/,
  },
  { title: 'an empty protocols list', request: (url) => ({ url, protocols: [] }), field: /\bprotocols\b/ },
  {
    title: 'a signal that is not an AbortSignal',
    request: (url) => loose({ url, signal: {} }),
    field: /\bsignal\b/,
  },
  {
    title: 'auth without a password',
    request: (url) => loose({ url, auth: { username: 'u' } }),
    field: /\bauth\b/,
  },
];

/** Subscribes without letting anything throw out of subscribe(); resolves with the error delivered. */
function errorOf(t: ExecutionContext, events$: Observable<unknown>): Promise<unknown> {
  return new Promise((resolve) => {
    let subscription: Subscription | undefined;
    t.notThrows(() => {
      subscription = events$.subscribe({
        next: () => resolve(new Error('expected an error, got an event')),
        error: resolve,
        complete: () => resolve(new Error('expected an error, got completion')),
      });
    }, 'subscribe() must not throw');
    t.true(subscription?.closed, 'the error is delivered at once');
  });
}

for (const { title, request, field } of cases) {
  test(`bad input is an INVALID_INPUT error on the Observable: ${title}`, async (t) => {
    const server = await useServer(t, (_req, res) => {
      res.end('should not be reached');
    });
    const curl = useCurl(t);
    const results: TransferResult[] = [];
    curl.results$.subscribe((r) => results.push(r));
    const url = `${server.url}/x`;
    for (const events$ of [curl.request(request(url)), curl.transfer(request(url))]) {
      const error = await errorOf(t, events$);
      t.true(error instanceof CurlError, String(error));
      const e = error as CurlError;
      t.is(e.code, 'INVALID_INPUT');
      t.is(e.codeName, 'INVALID_INPUT');
      t.regex(e.message, field);
    }
    t.is(server.requests.length, 0, 'nothing reached the server');
    t.is(server.sockets.size, 0, 'no connection was made');
    t.deepEqual(results, [], 'a request that never started is not a libcurl result');
    t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
  });
}

test('calling request() or transfer() with bad input does not throw before subscription', (t) => {
  const curl = useCurl(t);
  t.notThrows(() => curl.request('::bad::'));
  t.notThrows(() => curl.transfer(loose({ url: 'http://127.0.0.1/', body: 1 })));
});

test('the INVALID_INPUT error carries the URL when it is valid', async (t) => {
  const curl = useCurl(t);
  const url = 'http://127.0.0.1:9/x';
  const error = await t.throwsAsync(lastValueFrom(curl.request({ url, timeoutMs: -5 })), {
    instanceOf: CurlError,
  });
  t.is(error.url, url);
});

test('after bad input the Curl still works', async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.end('ok');
  });
  const curl = useCurl(t);
  await t.throwsAsync(lastValueFrom(curl.request({ url: `${server.url}/`, curlOptions: { NOPE: 1 } })));
  const response = await lastValueFrom(curl.request(`${server.url}/`));
  t.is(response.text(), 'ok');
  t.is(curl.stats().easyHandles, 0);
});

test('new Curl() with an invalid option throws a TypeError at once', (t) => {
  t.throws(() => useCurl(t, { maxTotalConnections: -1 }), {
    instanceOf: TypeError,
    message: /maxTotalConnections/,
  });
});
