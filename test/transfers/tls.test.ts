import type http from 'node:http';
import type https from 'node:https';
import type { TLSSocket } from 'node:tls';
import test from 'ava';
import { lastValueFrom } from 'rxjs';
import { CurlError } from '../../src/index.js';
import { makePki, type SecureServer, startHttpsServer } from '../helpers/pki.js';
import { useCurl } from '../helpers/servers.js';

const pki = makePki();

/** 'client <CN>' for the client certificate the TLS connection of `req` presented, 'client none' without one. */
function answerWithPeer(req: http.IncomingMessage, res: http.ServerResponse): void {
  const peer = (req.socket as TLSSocket).getPeerCertificate();
  res.end(`client ${peer.subject?.CN ?? 'none'}`);
}

/** A plain HTTPS server; answers 'secure hello'. */
let open: SecureServer<https.Server>;
/** An HTTPS server that requires a client certificate signed by the CA; answers with its CN. */
let mutual: SecureServer<https.Server>;

test.before(async () => {
  open = await startHttpsServer(pki, (_req, res) => res.end('secure hello'));
  mutual = await startHttpsServer(pki, answerWithPeer, {
    ca: pki.ca,
    requestCert: true,
    rejectUnauthorized: true,
  });
});

test.after.always(async () => {
  await open?.close();
  await mutual?.close();
  pki.dispose();
});

test('without the CA the server certificate is refused: CurlError 60', async (t) => {
  const curl = useCurl(t);
  const err = await t.throwsAsync(lastValueFrom(curl.request(`${open.url}/`)));
  t.true(err instanceof CurlError);
  t.is((err as CurlError).code, 60);
  t.is((err as CurlError).codeName, 'CURLE_PEER_FAILED_VERIFICATION');
  t.is((err as CurlError).result?.ok, false);
});

test('tls.ca as a PEM string verifies the server', async (t) => {
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${open.url}/`, tls: { ca: pki.ca } }));
  t.is(response.status, 200);
  t.is(response.text(), 'secure hello');
  t.true(response.result.timings.tlsMs > 0, 'a TLS handshake happened');
});

test('tls.ca as bytes verifies the server', async (t) => {
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${open.url}/`, tls: { ca: new TextEncoder().encode(pki.ca) } }),
  );
  t.is(response.text(), 'secure hello');
});

test('tls.caFile verifies the server', async (t) => {
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${open.url}/`, tls: { caFile: pki.caFile } }));
  t.is(response.text(), 'secure hello');
});

test('the server certificate is valid for localhost too', async (t) => {
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `https://localhost:${open.port}/`, tls: { ca: pki.ca } }),
  );
  t.is(response.text(), 'secure hello');
});

test('tls.insecure skips verification', async (t) => {
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${open.url}/`, tls: { insecure: true } }));
  t.is(response.text(), 'secure hello');
});

test('a wrong CA fails verification even with a CA given', async (t) => {
  const other = makePki();
  t.teardown(() => other.dispose());
  const curl = useCurl(t);
  const err = await t.throwsAsync(
    lastValueFrom(curl.request({ url: `${open.url}/`, tls: { ca: other.ca } })),
  );
  t.true(err instanceof CurlError);
  t.is((err as CurlError).code, 60);
});

test('a client certificate as PEM (tls.cert, tls.key) is accepted; the server sees its CN', async (t) => {
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${mutual.url}/`, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } }),
  );
  t.is(response.status, 200);
  t.is(response.text(), `client ${pki.clientName}`);
});

test('a client certificate from files (tls.certFile, tls.keyFile) is accepted', async (t) => {
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({
      url: `${mutual.url}/`,
      tls: { caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile },
    }),
  );
  t.is(response.text(), `client ${pki.clientName}`);
});

test('without a client certificate the mutual-TLS server refuses: CurlError', async (t) => {
  const curl = useCurl(t);
  const err = await t.throwsAsync(
    lastValueFrom(curl.request({ url: `${mutual.url}/`, tls: { ca: pki.ca } })),
  );
  t.true(err instanceof CurlError, String(err));
  t.log(`${(err as CurlError).codeName}: ${(err as CurlError).message}`);
  t.is(typeof (err as CurlError).code, 'number');
  t.not((err as CurlError).code, 0);
});

test('a client certificate set on one request is not sent by the next request, which has none', async (t) => {
  // Pooled easy handles keep their options: the second request runs on the handle of the first
  // (one pooled handle at the end proves it) and must not present the first one's certificate.
  // Two servers that ask for a certificate but do not require one: the second request goes to
  // another port, so libcurl can neither reuse the first TLS connection nor resume its session,
  // and what the second server sees is what the handle sends.
  const asking = { ca: pki.ca, requestCert: true, rejectUnauthorized: false };
  const first = await startHttpsServer(pki, answerWithPeer, asking);
  t.teardown(() => first.close());
  const second = await startHttpsServer(pki, answerWithPeer, asking);
  t.teardown(() => second.close());
  const curl = useCurl(t);
  const withCert = await lastValueFrom(
    curl.request({ url: `${first.url}/`, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } }),
  );
  t.is(withCert.text(), `client ${pki.clientName}`, 'the certificate is sent when set');
  const without = await lastValueFrom(curl.request({ url: `${second.url}/`, tls: { ca: pki.ca } }));
  t.is(without.text(), 'client none', 'no certificate on the request after');
  t.is(second.connections(), 1);
  t.is(curl.stats().pooledHandles, 1, 'both requests ran on the same easy handle');
});

test('a CA set on one request does not verify the next request, which has none', async (t) => {
  const curl = useCurl(t);
  // Through 'localhost', then 127.0.0.1: two connections, whatever libcurl's rules for reusing one.
  const verified = await lastValueFrom(
    curl.request({ url: `https://localhost:${open.port}/`, tls: { ca: pki.ca } }),
  );
  t.is(verified.text(), 'secure hello');
  const err = await t.throwsAsync(lastValueFrom(curl.request(`${open.url}/`)));
  t.true(err instanceof CurlError);
  t.is((err as CurlError).code, 60, 'verification fails again without the CA');
  t.is(curl.stats().pooledHandles, 1, 'both requests ran on the same easy handle');
});
