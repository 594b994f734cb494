import { gunzipSync, gzipSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { body } from '../../src/index.js';
import { randomPayload, sha256, useCurl, useServer } from '../helpers/servers.js';

// Compressible, but not trivially: random hex.
const payload = Buffer.from(randomPayload(256 * 1024).toString('hex'));
const gzipped = gzipSync(payload);

/** Always answers gzip, whatever the request asked for, and remembers its accept-encoding. */
function serveGzip(t: ExecutionContext) {
  return useServer(t, (_req, res) => {
    res.writeHead(200, {
      'content-type': 'text/plain',
      'content-encoding': 'gzip',
      'content-length': gzipped.length,
    });
    res.end(gzipped);
  });
}

test('a gzip-encoded response is decoded', async (t) => {
  const server = await serveGzip(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request(`${server.url}/`));
  t.is(response.body.length, payload.length);
  t.is(sha256(response.body), sha256(payload));
  t.is(response.headers['content-encoding'], 'gzip');
  t.regex(String(server.requests[0].headers['accept-encoding']), /\bgzip\b/);
});

test('a gzip-encoded response is decoded in transfer() data events too', async (t) => {
  const server = await serveGzip(t);
  const curl = useCurl(t);
  const bytes = await lastValueFrom(curl.transfer(`${server.url}/`).pipe(body()));
  t.is(sha256(bytes), sha256(payload));
});

test('decompress: false returns the raw gzip bytes and asks for no encoding', async (t) => {
  const server = await serveGzip(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${server.url}/`, decompress: false }));
  t.is(response.body.length, gzipped.length);
  t.is(sha256(response.body), sha256(gzipped));
  t.is(sha256(gunzipSync(response.body)), sha256(payload));
  t.is(server.requests[0].headers['accept-encoding'], undefined);
  t.is(response.result.downloadedBytes, gzipped.length);
});

test('a corrupt gzip body is CurlError 61 (CURLE_BAD_CONTENT_ENCODING)', async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.writeHead(200, { 'content-encoding': 'gzip' });
    res.end(Buffer.concat([gzipped.subarray(0, 10), Buffer.from('this is not deflate data at all')]));
  });
  const curl = useCurl(t);
  const error = await t.throwsAsync(lastValueFrom(curl.request(`${server.url}/`)));
  t.like(error, { code: 61, codeName: 'CURLE_BAD_CONTENT_ENCODING' });
});
