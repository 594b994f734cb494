import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type https from 'node:https';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { CurlError } from '../../src/index.js';
import { makePki, type SecureServer, startHttpsServer } from '../helpers/pki.js';
import { useCurl, useTempDir } from '../helpers/servers.js';

const pki = makePki();
/** The server key's pin: sha256 of its SubjectPublicKeyInfo, in base64. */
const serverKey = createPublicKey(pki.serverCert);
const pin = `sha256//${createHash('sha256')
  .update(serverKey.export({ type: 'spki', format: 'der' }))
  .digest('base64')}`;
const wrongPin = `sha256//${randomBytes(32).toString('base64')}`;

let server: SecureServer<https.Server>;

test.before(async () => {
  server = await startHttpsServer(pki, (_req, res) => res.end('pinned hello'));
});

test.after.always(async () => {
  await server?.close();
  pki.dispose();
});

/** A request to the server with the CA and `pinnedPublicKey`, from a Curl of the test's own. */
const request = (t: ExecutionContext, pinnedPublicKey: string) =>
  lastValueFrom(useCurl(t).request({ url: `${server.url}/`, tls: { ca: pki.ca }, pinnedPublicKey }));

test('the right pin: the request succeeds', async (t) => {
  const response = await request(t, pin);
  t.is(response.status, 200);
  t.is(response.text(), 'pinned hello');
});

test('a wrong pin fails with CurlError 90, CURLE_SSL_PINNEDPUBKEYNOTMATCH', async (t) => {
  const error = await t.throwsAsync(request(t, wrongPin));
  t.true(error instanceof CurlError);
  t.like(error, { code: 90, codeName: 'CURLE_SSL_PINNEDPUBKEYNOTMATCH' });
});

test('several pins joined by ";": one that matches is enough', async (t) => {
  const response = await request(t, `${wrongPin};${pin}`);
  t.is(response.text(), 'pinned hello');
});

test('a public key file: the server key passes, another key fails with 90', async (t) => {
  const dir = useTempDir(t);
  const right = join(dir, 'server.pub.pem');
  writeFileSync(right, serverKey.export({ type: 'spki', format: 'pem' }));
  t.is((await request(t, right)).text(), 'pinned hello');
  const other = join(dir, 'client.pub.pem');
  writeFileSync(other, createPublicKey(pki.clientCert).export({ type: 'spki', format: 'pem' }));
  const error = await t.throwsAsync(request(t, other));
  t.like(error, { code: 90 });
});
