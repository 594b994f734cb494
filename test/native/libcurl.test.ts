import { readFileSync } from 'node:fs';
import test from 'ava';
import { Curl, RXCURL_VERSION } from '../../src/index.js';
import { LIBCURL_NAMES, loadLibcurl } from '../../src/native/libcurl.js';
import { stallsFtpDoMore } from '../../src/native/version.js';

test('a library that does not load: the error lists what was tried and how to install libcurl', (t) => {
  const error = t.throws(() => loadLibcurl('/nonexistent/libcurl-missing.so'));
  t.regex(error.message, /\/nonexistent\/libcurl-missing\.so/);
  t.regex(error.message, /apt-get install libcurl4/);
  t.regex(error.message, /RXCURL_LIBCURL/);
});

test('with no path given, RXCURL_LIBCURL is loaded when set, else the first default name that loads', (t) => {
  t.true(LIBCURL_NAMES.includes('libcurl.so.4') || process.platform !== 'linux');
  const lib = loadLibcurl();
  const configured = process.env.RXCURL_LIBCURL;
  if (configured) t.is(lib.path, configured);
  else t.true(LIBCURL_NAMES.includes(lib.path));
  t.is(loadLibcurl(), lib, 'loaded once');
});

test('Curl.version describes the loaded libcurl', (t) => {
  const { version } = Curl;
  t.regex(version.libcurl, /^\d+\.\d+\.\d+/);
  t.true(version.protocols.includes('http'));
  t.true(version.protocols.includes('https') === version.features.ssl);
  t.is(typeof version.features.http2, 'boolean');
  t.is(version.features.ssl, version.ssl !== '');
});

test('FTP transfers are watched for a stall only on a libcurl that can leave one waiting on nothing (before 8.4.0)', (t) => {
  for (const version of ['7.88.1', '7.88.1-DEV', '8.3.0', '8.3.0-DEV'])
    t.true(stallsFtpDoMore(version), version);
  for (const version of ['8.4.0', '8.10.1', '8.4.0-DEV', '9.0.0']) t.false(stallsFtpDoMore(version), version);
});

test('RXCURL_VERSION is the package version', (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  t.is(RXCURL_VERSION, pkg.version);
});
