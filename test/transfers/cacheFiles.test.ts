// The Curl options hsts and altSvc: cache files read when a Curl starts and written at close(),
// against HTTPS servers on loopback with a certificate for `localhost`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import test, { type ExecutionContext } from 'ava';
import { firstValueFrom, forkJoin, lastValueFrom } from 'rxjs';
import { Curl, type CurlRequest } from '../../src/index.js';
import { makePki, startHttpsServer } from '../helpers/pki.js';
import { useCurl, useTempDir } from '../helpers/servers.js';

const pki = makePki();
test.after.always(() => pki.dispose());

/** An HTTPS server for https://localhost:PORT that answers `name` and sends `headers`; records whether each request came over TLS. */
async function serveHttps(t: ExecutionContext, name: string, headers: Record<string, string> = {}) {
  const secure: boolean[] = [];
  const server = await startHttpsServer(pki, (req, res) => {
    secure.push((req.socket as TLSSocket).encrypted === true);
    res.writeHead(200, headers).end(name);
  });
  t.teardown(() => server.close());
  return { port: server.port, secure };
}

/** A request for `url` that resolves localhost to 127.0.0.1 on `ports` and trusts the test CA. */
const localhost = (url: string, ...ports: number[]): CurlRequest => ({
  url,
  resolve: ports.map((port) => `localhost:${port}:127.0.0.1`),
  tls: { ca: pki.ca },
});

test('hsts: a host seen over https is asked for over https when the URL says http://, by every handle of the Curl and by the next Curl through the file', async (t) => {
  const { port, secure } = await serveHttps(t, 'strict', { 'strict-transport-security': 'max-age=3600' });
  const file = join(useTempDir(t, 'rxcurl-hsts-'), 'hsts.txt');
  const plain = localhost(`http://localhost:${port}/`, port);

  // Without HSTS, http:// to the TLS port gets no HTTP answer.
  await t.throwsAsync(lastValueFrom(useCurl(t).request(plain)));

  const first = new Curl({ hsts: file });
  t.teardown(() => first.close());
  await lastValueFrom(first.request(localhost(`https://localhost:${port}/`, port)));
  // Two at once: a pooled handle and a new one both see the shared cache.
  const both = await lastValueFrom(forkJoin([first.request(plain), first.request(plain)]));
  t.deepEqual(
    both.map((r) => [r.text(), r.url]),
    [
      ['strict', `https://localhost:${port}/`],
      ['strict', `https://localhost:${port}/`],
    ],
  );
  t.false(existsSync(file), 'written at close(), not before');
  await first.close();
  t.regex(readFileSync(file, 'utf8'), /^localhost "\d{8} \d\d:\d\d:\d\d"$/m);

  const next = useCurl(t, { hsts: file });
  const upgraded = await lastValueFrom(next.request(plain));
  t.is(upgraded.text(), 'strict');
  t.is(upgraded.url, `https://localhost:${port}/`);
  t.deepEqual(secure, [true, true, true, true], 'every request the server saw came over TLS');
});

test('altSvc: an Alt-Svc h1 alternative is used by the next request, and by the next Curl through the file', async (t) => {
  const alternative = await serveHttps(t, 'alternative');
  const origin = await serveHttps(t, 'origin', {
    'alt-svc': `h1="localhost:${alternative.port}"; ma=3600`,
  });
  const file = join(useTempDir(t, 'rxcurl-altsvc-'), 'altsvc.txt');
  const request = localhost(`https://localhost:${origin.port}/`, origin.port, alternative.port);

  const first = new Curl({ altSvc: file });
  t.teardown(() => first.close());
  t.is((await firstValueFrom(first.request(request))).text(), 'origin');
  t.is((await firstValueFrom(first.request(request))).text(), 'alternative');
  await first.close();
  t.regex(
    readFileSync(file, 'utf8'),
    new RegExp(`^h1 localhost ${origin.port} h1 localhost ${alternative.port} "`, 'm'),
  );

  const next = useCurl(t, { altSvc: file });
  t.is((await firstValueFrom(next.request(request))).text(), 'alternative');
  t.is(origin.secure.length, 1);
  t.is(alternative.secure.length, 2);
});

test('hsts and altSvc must be file paths: anything else is a TypeError from new Curl()', (t) => {
  for (const hsts of [true, 1, '', 'a\0b']) {
    const error = t.throws(() => new Curl({ hsts: hsts as string }), { instanceOf: TypeError });
    t.regex(error.message, /hsts/);
  }
  const error = t.throws(() => new Curl({ altSvc: {} as string }), { instanceOf: TypeError });
  t.regex(error.message, /altSvc/);
});
