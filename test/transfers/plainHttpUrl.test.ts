// The fast path of URL validation: every URL it accepts, the WHATWG parser accepts too, so a
// request it lets through is never one that URL.canParse would have refused.
import test from 'ava';
import fc from 'fast-check';
import { isPlainHttpUrl } from '../../src/api/plainHttpUrl.js';

/** Host labels near the edges: numbers (IPv4 shorthands), hex, punycode, hyphens, underscores, case. */
const label = fc.oneof(
  fc.stringMatching(/^[a-zA-Z0-9-]{1,6}$/),
  fc.constantFrom('xn--', 'xn--abc', 'XN--a', '0x1f', '0X', '255', '256', '999', '010', '0', '-', 'a_b', ''),
  fc.integer({ min: 0, max: 300 }).map(String),
);
const host = fc.array(label, { minLength: 1, maxLength: 5 }).map((labels) => labels.join('.'));
const port = fc.oneof(
  fc.constant(''),
  fc.constant(':'),
  fc.integer({ min: 0, max: 99_999 }).map((p) => `:${p}`),
  fc.constant(':0x10'),
);
const rest = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^[/?#][!-~]{0,12}$/),
  fc.constantFrom('\\x', '@h', ':', '.', '%zz'),
);
const scheme = fc.constantFrom('http://', 'https://', 'HTTP://', 'ftp://', 'http:/', 'http:', 'http://user@');
const url = fc.tuple(scheme, host, port, rest).map((parts) => parts.join(''));

test('every URL the fast path accepts, URL.canParse accepts', (t) => {
  fc.assert(
    fc.property(url, (u) => !isPlainHttpUrl(u) || URL.canParse(u)),
    { numRuns: 20_000 },
  );
  t.pass(); // fc.assert threw, with the counterexample, if the property failed
});

test('the URLs rxcurl is usually given take the fast path', (t) => {
  for (const u of [
    'http://127.0.0.1:8080/1k',
    'https://example.com',
    'https://api.example.com/v1/items?page=2#top',
    'HTTP://Example.COM/a/b',
    'http://localhost:3000/',
    'http://127.0.0.1:39795/1k',
    'http://a:65535/',
    'https://my-host.internal.example/x.tar.gz',
  ])
    t.true(isPlainHttpUrl(u), u);
});

test('a URL the fast path cannot vouch for goes to the parser', (t) => {
  for (const u of [
    'http://999.1.1.1/', // a number that is no IPv4 address: URL.canParse refuses it
    'http://a.123/', // ends in a number: parsed as IPv4, and fails
    'http://xn--a/', // punycode that does not decode
    'http://a:65536/', // port out of range
    'http://a:99999/', // port out of range
    'http://[::1]/', // valid, but not plain
    'http://user:pass@host/', // valid, but not plain
    'ftp://example.com/',
  ])
    t.false(isPlainHttpUrl(u), u);
});

test('every port from 0 to 69,999 takes the fast path exactly when it is in range', (t) => {
  const wrong: string[] = [];
  for (let port = 0; port < 70_000; port++) {
    const u = `http://example.com:${port}/`;
    if (isPlainHttpUrl(u) !== URL.canParse(u)) wrong.push(u);
  }
  t.deepEqual(wrong, []);
});
