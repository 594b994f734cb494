// Speed caps, proved by lower bounds only: a capped transfer takes at least the time the cap
// allows, however busy the machine. The rate itself is a benchmark (bench/speedCaps.ts).
import test from 'ava';
import { lastValueFrom } from 'rxjs';
import { randomPayload, readBody, sha256, useCurl, useServer } from '../helpers/servers.js';

const MiB = 1024 * 1024;
const payload = randomPayload(2 * MiB);
/**
 * 2 MiB at 1 MiB/s takes 2 s; libcurl lets the first burst through before the cap applies (about
 * 0.1 s of it with the receive buffer rxcurl sizes), so at least 1.5 s.
 */
const AT_LEAST_MS = 1500;

test('maxRecvBytesPerSecond 1 MiB/s: a 2 MiB body takes at least 1.5 s and arrives whole', async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.writeHead(200, { 'content-length': payload.length }).end(payload);
  });
  const curl = useCurl(t);
  const started = performance.now();
  const response = await lastValueFrom(curl.request({ url: `${server.url}/`, maxRecvBytesPerSecond: MiB }));
  const ms = performance.now() - started;
  t.log(`2 MiB received in ${ms.toFixed(0)} ms: ${((payload.length / MiB / ms) * 1000).toFixed(3)} MiB/s`);
  t.true(ms >= AT_LEAST_MS, `took ${ms.toFixed(0)} ms`);
  t.is(sha256(response.body), sha256(payload));
});

test('maxSendBytesPerSecond 1 MiB/s: a 2 MiB upload takes at least 1.5 s and arrives whole', async (t) => {
  const server = await useServer(t, async (req, res) => {
    res.end(sha256(await readBody(req)));
  });
  const curl = useCurl(t);
  const started = performance.now();
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/`, method: 'PUT', body: payload, maxSendBytesPerSecond: MiB }),
  );
  const ms = performance.now() - started;
  t.log(`2 MiB sent in ${ms.toFixed(0)} ms: ${((payload.length / MiB / ms) * 1000).toFixed(3)} MiB/s`);
  t.true(ms >= AT_LEAST_MS, `took ${ms.toFixed(0)} ms`);
  t.is(response.text(), sha256(payload));
});

test('a cap of 0 is no cap: the request is not slowed', async (t) => {
  const server = await useServer(t, (_req, res) => res.end(payload));
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/`, maxRecvBytesPerSecond: 0, maxSendBytesPerSecond: 0 }),
  );
  t.is(sha256(response.body), sha256(payload));
});
