import http from 'node:http';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { Curl, CurlError } from '../../src/index.js';
import { registeredCallbacks } from '../../src/native/callbacks.js';
import { EasySlot } from '../../src/native/EasySlot.js';
import { listenForTest } from '../helpers/servers.js';

async function serve(t: ExecutionContext, body: Buffer): Promise<string> {
  const server = http.createServer((_req, res) => res.end(body));
  return `http://127.0.0.1:${await listenForTest(t, server)}/`;
}

test('one registered callback of each kind serves every transfer', async (t) => {
  const url = await serve(t, Buffer.from('ok'));
  const curl = new Curl();
  const before = registeredCallbacks();
  await Promise.all(Array.from({ length: 50 }, () => lastValueFrom(curl.request(url))));
  const after = registeredCallbacks();
  t.is(after, before);
  for (const key of ['socket', 'timer', 'write', 'read', 'progress'] as const)
    t.is(typeof after[key], 'bigint');
  await curl.close();
});

test('an exception thrown inside the write callback fails that transfer with it, not with a silent write error', async (t) => {
  const url = await serve(t, Buffer.alloc(100_000, 1));
  const curl = new Curl();
  // Fault injection: reading the response head (done inside the write callback) throws for one URL.
  const boom = new Error('head reader failed');
  const respond = EasySlot.prototype.respond;
  EasySlot.prototype.respond = function (this: EasySlot, transfer) {
    if (transfer.request.url.endsWith('?boom')) throw boom;
    respond.call(this, transfer);
  };
  t.teardown(() => {
    EasySlot.prototype.respond = respond;
  });
  const [failed, fine] = await Promise.all([
    lastValueFrom(curl.request(`${url}?boom`)).catch((e) => e),
    lastValueFrom(curl.request(url)),
  ]);
  t.is(failed, boom);
  t.is(fine.body.length, 100_000);
  t.is(curl.stats().transfers, 0);
  await curl.close();
});

test('maxBodyBytes: a body growing past the limit fails with CURLE_FILESIZE_EXCEEDED from the write callback', async (t) => {
  // Chunked, so libcurl cannot know the size up front and only our count can stop it.
  const server = http.createServer((_req, res) => {
    res.write(Buffer.alloc(60_000));
    res.end(Buffer.alloc(60_000));
  });
  const port = await listenForTest(t, server);
  const curl = new Curl();
  const url = `http://127.0.0.1:${port}/`;
  const error = await lastValueFrom(curl.request({ url, maxBodyBytes: 50_000 })).catch((e) => e);
  t.true(error instanceof CurlError);
  t.is(error.code, 63);
  t.regex(error.message, /maxBodyBytes/);
  const whole = await lastValueFrom(curl.request({ url, maxBodyBytes: 200_000 }));
  t.is(whole.body.length, 120_000);
  await curl.close();
});
