import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { CurlError } from '../../src/index.js';
import { useCurl, useServer, useTempDir } from '../helpers/servers.js';

function tempFile(t: ExecutionContext, content: string): string {
  const dir = useTempDir(t, 'rxcurl-protocols-');
  const path = join(dir, 'secret.txt');
  writeFileSync(path, content);
  return pathToFileURL(path).href;
}

test('file:// is refused by default with CURLE_UNSUPPORTED_PROTOCOL', async (t) => {
  const fileUrl = tempFile(t, 'secret');
  const curl = useCurl(t);
  const error = await t.throwsAsync(lastValueFrom(curl.request(fileUrl)), { instanceOf: CurlError });
  t.is(error.code, 1);
  t.is(error.codeName, 'CURLE_UNSUPPORTED_PROTOCOL');
  t.is(error.url, fileUrl);
});

test('file:// works when the protocols option allows it (the refusal above is policy)', async (t) => {
  const fileUrl = tempFile(t, 'secret');
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: fileUrl, protocols: ['file'] }));
  t.is(response.text(), 'secret');
});

test('a redirect to file:// is refused', async (t) => {
  const fileUrl = tempFile(t, 'secret');
  const server = await useServer(t, (_req, res) => {
    res.writeHead(302, { location: fileUrl }).end();
  });
  const curl = useCurl(t);
  const error = await t.throwsAsync(lastValueFrom(curl.request(`${server.url}/go`)), {
    instanceOf: CurlError,
  });
  t.is(error.code, 1);
  t.is(error.codeName, 'CURLE_UNSUPPORTED_PROTOCOL');
  t.is(server.requests.length, 1);
});

test('a redirect to a scheme outside the protocols option is refused, even if the first URL was allowed', async (t) => {
  const target = await useServer(t, (_req, res) => {
    res.end('should not be reached');
  });
  const server = await useServer(t, (_req, res) => {
    res.writeHead(302, { location: `ftp://127.0.0.1:${target.port}/x` }).end();
  });
  const curl = useCurl(t);
  const error = await t.throwsAsync(lastValueFrom(curl.request(`${server.url}/go`)), {
    instanceOf: CurlError,
  });
  t.is(error.code, 1);
  t.is(target.sockets.size + target.requests.length, 0);
});

test("protocols: ['https'] refuses a plain http:// URL", async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.end('ok');
  });
  const curl = useCurl(t);
  const error = await t.throwsAsync(
    lastValueFrom(curl.request({ url: `${server.url}/`, protocols: ['https'] })),
    {
      instanceOf: CurlError,
    },
  );
  t.is(error.code, 1);
  t.is(server.requests.length, 0);
});
