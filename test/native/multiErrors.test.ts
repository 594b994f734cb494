import http from 'node:http';
import test from 'ava';
import { defer, lastValueFrom } from 'rxjs';
import {
  CURLE,
  CURLM,
  Curl,
  CurlError,
  CurlMultiError,
  ensureOk,
  isTransient,
  retryTransient,
} from '../../src/index.js';
import type { Libcurl } from '../../src/native/libcurl.js';
import { NativeDriver } from '../../src/native/NativeDriver.js';
import { listenForTest } from '../helpers/servers.js';

test('a curl_multi_add_handle failure is a CurlMultiError named CURLM_, never read as a CURLcode, and not retried', async (t) => {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.end('ok');
  });
  const url = `http://127.0.0.1:${await listenForTest(t, server)}/`;
  // Real libcurl throughout, except that adding the easy handle is refused with CURLM_ADDED_ALREADY,
  // whose number (7) is also CURLE_COULDNT_CONNECT, a transient CURLcode.
  const driver = new NativeDriver();
  const refusing: Libcurl = { ...driver.lib, multi_add_handle: () => CURLM.ADDED_ALREADY };
  Object.defineProperty(driver, 'lib', { value: refusing });
  const curl = new Curl({}, driver);
  t.teardown(() => curl.close());
  let attempts = 0;
  const attempt = defer(() => {
    attempts++;
    return curl.request(url);
  });
  const error = await lastValueFrom(
    attempt.pipe(ensureOk(), retryTransient({ count: 3, baseDelayMs: 1, maxDelayMs: 1 })),
  ).catch((e) => e);
  t.true(error instanceof CurlMultiError);
  t.true(error instanceof CurlError);
  t.is(error.code, 'MULTI_ERROR');
  t.is(error.multiCode, CURLM.ADDED_ALREADY);
  t.is(error.codeName, 'CURLM_ADDED_ALREADY');
  t.not(error.code, CURLE.COULDNT_CONNECT);
  t.regex(error.message, /curl_multi_add_handle failed/);
  t.false(isTransient(error));
  t.is(attempts, 1, 'not retried');
  t.is(hits, 0, 'nothing reached the server');
  t.deepEqual(
    { transfers: curl.stats().transfers, easyHandles: curl.stats().easyHandles },
    { transfers: 0, easyHandles: 0 },
  );
});

test('a CURLcode error with the same number is transient: the two spaces stay apart', (t) => {
  t.true(isTransient(new CurlError(CURLE.COULDNT_CONNECT, 'refused', 'http://x.test/')));
  t.false(isTransient(new CurlMultiError(CURLM.ADDED_ALREADY, 'refused', 'http://x.test/')));
});
