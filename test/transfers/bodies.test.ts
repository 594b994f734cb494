import test, { type ExecutionContext } from 'ava';
import { lastValueFrom, type Observable, toArray } from 'rxjs';
import { body, type TransferEvent } from '../../src/index.js';
import { randomPayload, sha256, useCurl, useServer } from '../helpers/servers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [0, 1, KiB, 64 * KiB, MiB, 20 * MiB];

// One payload per size, made once for the file.
const payloads = new Map(SIZES.map((size) => [size, randomPayload(size)]));

/** /bytes/<size> with a content-length; /chunked/<size> in chunked encoding, in 10 KiB writes. */
function serveBytes(t: ExecutionContext) {
  return useServer(t, (req, res) => {
    const match = /^\/(bytes|chunked)\/(\d+)$/.exec(req.url ?? '');
    const payload = match ? payloads.get(Number(match[2])) : undefined;
    if (!match || !payload) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`no such payload: ${req.url}`);
      return;
    }
    if (match[1] === 'bytes') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.length });
      res.end(req.method === 'HEAD' ? undefined : payload);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    for (let i = 0; i < payload.length; i += 10 * KiB) res.write(payload.subarray(i, i + 10 * KiB));
    res.end();
  });
}

/** Every event and the completion, in the order the subscriber saw them. */
function record(events$: Observable<TransferEvent>): Promise<Array<TransferEvent | 'complete'>> {
  return new Promise((resolve, reject) => {
    const seen: Array<TransferEvent | 'complete'> = [];
    events$.subscribe({
      next: (event) => seen.push(event),
      error: reject,
      complete: () => {
        seen.push('complete');
        resolve(seen);
      },
    });
  });
}

const order = (seen: Array<TransferEvent | 'complete'>) =>
  seen.map((e) => (e === 'complete' ? 'complete' : e.type)).join(' ');

for (const size of SIZES) {
  const expected = sha256(payloads.get(size)!);

  test(`request(): ${size} bytes arrive exactly`, async (t) => {
    const server = await serveBytes(t);
    const curl = useCurl(t);
    const response = await lastValueFrom(curl.request(`${server.url}/bytes/${size}`));
    t.is(response.status, 200);
    t.is(response.body.length, size);
    t.is(sha256(response.body), expected);
    t.is(response.headers['content-length'], String(size));
    t.true(response.result.ok);
    t.is(response.result.downloadedBytes, size);
    t.is(response.result.status, 200);
    t.is(response.result.method, 'GET');
    t.is(response.result.primaryIp, '127.0.0.1');
    t.is(response.result.primaryPort, server.port);
    t.is(response.httpVersion, '1.1');
  });

  test(`transfer(): ${size} bytes as data events, in order response → data* → done → complete`, async (t) => {
    const server = await serveBytes(t);
    const curl = useCurl(t);
    const seen = await record(curl.transfer(`${server.url}/bytes/${size}`));
    t.regex(order(seen), /^response( data)* done complete$/);
    const chunks = seen.flatMap((e) => (e !== 'complete' && e.type === 'data' ? [e.chunk] : []));
    if (size > 0) t.true(chunks.length >= 1);
    else t.is(chunks.length, 0);
    if (size > MiB) t.true(chunks.length > 1, 'a large body comes in several chunks');
    t.true(chunks.every((c) => Buffer.isBuffer(c) && c.length > 0));
    const joined = Buffer.concat(chunks);
    t.is(joined.length, size);
    t.is(sha256(joined), expected);
    const response = seen[0] as Extract<TransferEvent, { type: 'response' }>;
    t.is(response.status, 200);
    t.is(response.url, `${server.url}/bytes/${size}`);
    const done = seen.at(-2) as Extract<TransferEvent, { type: 'done' }>;
    t.is(done.result.downloadedBytes, size);
    t.true(done.result.ok);
    t.is(curl.stats().transfers, 0);
  });
}

test('transfer(): a chunked body of 1 MiB arrives exactly, through the body() operator', async (t) => {
  const server = await serveBytes(t);
  const curl = useCurl(t);
  const bytes = await lastValueFrom(curl.transfer(`${server.url}/chunked/${MiB}`).pipe(body()));
  t.is(bytes.length, MiB);
  t.is(sha256(bytes), sha256(payloads.get(MiB)!));
});

test('request(): a chunked body of 20 MiB arrives exactly', async (t) => {
  const server = await serveBytes(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request(`${server.url}/chunked/${20 * MiB}`));
  t.is(response.headers['transfer-encoding'], 'chunked');
  t.is(sha256(response.body), sha256(payloads.get(20 * MiB)!));
  t.is(response.result.downloadedBytes, 20 * MiB);
});

test('request() emits exactly one response, then completes', async (t) => {
  const server = await serveBytes(t);
  const curl = useCurl(t);
  const all = await lastValueFrom(curl.request(`${server.url}/bytes/${KiB}`).pipe(toArray()));
  t.is(all.length, 1);
  t.is(all[0].body.length, KiB);
});

test('a 404 is a response, not an error', async (t) => {
  const server = await serveBytes(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request(`${server.url}/missing`));
  t.is(response.status, 404);
  t.is(response.text(), 'no such payload: /missing');
  t.true(response.result.ok);
  t.is(response.result.status, 404);

  const seen = await record(curl.transfer(`${server.url}/missing`));
  t.regex(order(seen), /^response( data)+ done complete$/);
  t.is((seen[0] as Extract<TransferEvent, { type: 'response' }>).status, 404);
});

test('a 204 has a response event, no data, then done', async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.writeHead(204, { 'x-empty': 'yes' }).end();
  });
  const curl = useCurl(t);
  const seen = await record(curl.transfer(`${server.url}/`));
  t.is(order(seen), 'response done complete');
  t.like(seen[0], { type: 'response', status: 204, headers: { 'x-empty': 'yes' } });
});

test('a HEAD request has headers and no body', async (t) => {
  const server = await serveBytes(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${server.url}/bytes/${KiB}`, method: 'HEAD' }));
  t.is(server.requests.at(-1)?.method, 'HEAD');
  t.is(response.status, 200);
  t.is(response.headers['content-length'], String(KiB));
  t.is(response.body.length, 0);
  t.is(response.result.method, 'HEAD');
  t.is(response.result.downloadedBytes, 0);
});
