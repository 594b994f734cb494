import type https from 'node:https';
import type { TLSSocket } from 'node:tls';
import test from 'ava';
import { lastValueFrom } from 'rxjs';
import { CurlError } from '../../src/index.js';
import { makePki, type SecureServer, startHttpsServer } from '../helpers/pki.js';
import { useCurl } from '../helpers/servers.js';

const pki = makePki();

/** A plain HTTPS server; answers 'secure hello'. */
let open: SecureServer<https.Server>;
/** An HTTPS server that requires a client certificate signed by the CA; answers with its CN. */
let mutual: SecureServer<https.Server>;

test.before(async () => {
  open = await startHttpsServer(pki, (_req, res) => res.end('secure hello'));
  mutual = await startHttpsServer(
    pki,
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(`client ${peer.subject?.CN ?? 'none'}`);
    },
    { ca: pki.ca, requestCert: true, rejectUnauthorized: true },
  );
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

test('TLS and plain requests on one Curl do not leak settings into each other', async (t) => {
  // Pooled easy handles are reused: a request without tls after one with a client cert must not
  // keep the cert, and a request without a CA after one with it must fail verification again.
  const curl = useCurl(t);
  const withCert = await lastValueFrom(
    curl.request({ url: `${mutual.url}/`, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } }),
  );
  t.is(withCert.text(), `client ${pki.clientName}`);
  const err = await t.throwsAsync(lastValueFrom(curl.request(`${open.url}/`)));
  t.is((err as CurlError).code, 60);
});
