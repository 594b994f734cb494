import http2 from 'node:http2';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom, map, mergeMap, range, toArray } from 'rxjs';
import { CurlError } from '../../src/index.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { listenForTest, useCurl } from '../helpers/servers.js';

// The CA, server and client certificates the transfers suite uses too; undefined without openssl.
const certificate: Pki | undefined = (() => {
  try {
    return makePki();
  } catch {
    return undefined;
  }
})();
test.after.always(() => certificate?.dispose());
const tlsTest = certificate ? test : test.skip; // needs the openssl command line

const answer = (path: string) => `answer ${path}`;

/** HTTPS with ALPN: HTTP/2, or HTTP/1.1 for clients that ask for it. Counts TLS sessions. */
async function startHttps(t: ExecutionContext) {
  const { serverKey: key, serverCert: cert } = certificate!;
  const server = http2.createSecureServer({ key, cert, allowHTTP1: true });
  let sessions = 0;
  server.on('secureConnection', () => sessions++);
  server.on('request', (req, res) => {
    setTimeout(() => {
      res.setHeader('x-alpn', req.httpVersion);
      res.end(answer(req.url));
    }, 5);
  });
  const port = await listenForTest(t, server);
  return { url: `https://127.0.0.1:${port}`, sessions: () => sessions };
}

tlsTest('https with the CA given as PEM content: verified, and HTTP/2 by ALPN', async (t) => {
  const server = await startHttps(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/a`, tls: { ca: certificate!.ca } }),
  );
  t.is(response.text(), answer('/a'));
  t.is(response.httpVersion, '2');
  t.is(response.headers['x-alpn'], '2.0');
  t.true(response.result.timings.tlsMs > 0);
});

tlsTest('https with the CA given as a file path', async (t) => {
  const server = await startHttps(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/b`, tls: { caFile: certificate!.caFile } }),
  );
  t.is(response.text(), answer('/b'));
});

tlsTest('an unknown CA fails verification (CurlError 60)', async (t) => {
  const server = await startHttps(t);
  const curl = useCurl(t);
  const error = await t.throwsAsync(lastValueFrom(curl.request(`${server.url}/c`)), {
    instanceOf: CurlError,
  });
  t.is(error.code, 60);
  t.is(error.codeName, 'CURLE_PEER_FAILED_VERIFICATION');
});

tlsTest('tls.insecure skips verification', async (t) => {
  const server = await startHttps(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${server.url}/d`, tls: { insecure: true } }));
  t.is(response.text(), answer('/d'));
});

tlsTest("httpVersion '1.1' over https stays on HTTP/1.1", async (t) => {
  const server = await startHttps(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/e`, tls: { ca: certificate!.ca }, httpVersion: '1.1' }),
  );
  t.is(response.httpVersion, '1.1');
  t.is(response.headers['x-alpn'], '1.1');
});

tlsTest('parallel https transfers multiplex over one HTTP/2 connection', async (t) => {
  const server = await startHttps(t);
  const curl = useCurl(t);
  const got = await lastValueFrom(
    range(40).pipe(
      mergeMap((i) =>
        curl
          .request({ url: `${server.url}/${i}`, tls: { ca: certificate!.ca } })
          .pipe(map((r) => ({ i, r }))),
      ),
      toArray(),
    ),
  );
  t.is(got.length, 40);
  t.true(got.every(({ i, r }) => r.text() === answer(`/${i}`) && r.httpVersion === '2'));
  t.is(server.sessions(), 1);
});

tlsTest('multiplex: false opens separate connections for parallel transfers', async (t) => {
  const server = await startHttps(t);
  const curl = useCurl(t, { multiplex: false });
  const got = await lastValueFrom(
    range(10).pipe(
      mergeMap((i) => curl.request({ url: `${server.url}/${i}`, tls: { ca: certificate!.ca } })),
      toArray(),
    ),
  );
  t.is(got.length, 10);
  t.true(server.sessions() > 1, `${server.sessions()} connections`);
});
