import { createHash } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { firstValueFrom, lastValueFrom, map, mergeMap, range, toArray } from 'rxjs';
import type { TransferResult } from '../../src/index.js';
import { sha256, useCurl, useServer, waitFor } from '../helpers/servers.js';

/** The body for item i: 0 to ~8 KiB, derived from i, so every response is different. */
function itemBody(i: number): Buffer {
  const seed = createHash('sha256').update(`item ${i}`).digest();
  const size = seed.readUInt16BE(0) % 8192;
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += seed.length) seed.copy(out, at);
  return out;
}

/** /item/<i> answers itemBody(i); tracks how many requests are open at once. */
async function serveItems(t: ExecutionContext) {
  const stats = { open: 0, maxOpen: 0 };
  const server = await useServer(t, (req, res) => {
    const i = Number(/^\/item\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
    stats.open++;
    stats.maxOpen = Math.max(stats.maxOpen, stats.open);
    res.on('close', () => stats.open--);
    // Answer on a later turn, so that requests overlap at the server.
    setImmediate(() => {
      const body = itemBody(i);
      res.writeHead(200, { 'content-length': body.length, 'x-item': String(i) });
      res.end(body);
    });
  });
  return { ...server, stats };
}

test('1,000 transfers, 100 in flight: all exact, each on results$ once, everything released', async (t) => {
  const server = await serveItems(t);
  const curl = useCurl(t);
  const N = 1000;
  const results: TransferResult[] = [];
  curl.results$.subscribe((r) => results.push(r));
  let maxRunning = 0;
  curl.running$.subscribe((n) => {
    maxRunning = Math.max(maxRunning, n);
  });
  let maxTransfers = 0;

  const responses = await lastValueFrom(
    range(N).pipe(
      mergeMap(
        (i) =>
          curl.request(`${server.url}/item/${i}`).pipe(
            map((response) => {
              maxTransfers = Math.max(maxTransfers, curl.stats().transfers + 1);
              return { i, response };
            }),
          ),
        100,
      ),
      toArray(),
    ),
  );

  t.is(responses.length, N);
  let exact = 0;
  for (const { i, response } of responses) {
    const expected = itemBody(i);
    if (
      response.status === 200 &&
      response.headers['x-item'] === String(i) &&
      response.body.length === expected.length &&
      sha256(response.body) === sha256(expected)
    )
      exact++;
    else t.fail(`item ${i} is wrong`);
  }
  t.is(exact, N);
  t.is(new Set(responses.map((r) => r.i)).size, N);

  // results$: one result per transfer, each id exactly once, and the ids the responses carry.
  t.is(results.length, N);
  const ids = results.map((r) => r.id);
  t.is(new Set(ids).size, N);
  t.deepEqual(
    [...ids].sort((a, b) => a - b),
    responses.map((r) => r.response.result.id).sort((a, b) => a - b),
  );
  t.true(results.every((r) => r.ok && r.status === 200));

  t.is(await firstValueFrom(curl.running$), 0, 'running$ ends at 0');
  t.true(maxRunning <= 100, `running$ peaked at ${maxRunning}`);
  t.true(maxRunning > 1, 'transfers overlapped');
  t.true(maxTransfers <= 100);
  t.true(server.stats.maxOpen <= 100);
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('maxHostConnections limits the connections to one host', async (t) => {
  const server = await serveItems(t);
  const curl = useCurl(t, { maxHostConnections: 3 });
  const responses = await lastValueFrom(
    range(60).pipe(
      mergeMap((i) => curl.request(`${server.url}/item/${i}`).pipe(map((r) => ({ i, r }))), 30),
      toArray(),
    ),
  );
  t.true(responses.every(({ i, r }) => sha256(r.body) === sha256(itemBody(i))));
  t.true(server.stats.maxOpen <= 3, `${server.stats.maxOpen} requests were open at once`);
  t.true(server.sockets.size <= 3);
});

test('transfers to several servers at once all complete', async (t) => {
  const servers = await Promise.all([serveItems(t), serveItems(t), serveItems(t)]);
  const curl = useCurl(t);
  const got = await lastValueFrom(
    range(150).pipe(
      mergeMap((i) => {
        const server = servers[i % 3];
        return curl.request(`${server.url}/item/${i}`).pipe(map((r) => ({ i, r, port: server.port })));
      }, 50),
      toArray(),
    ),
  );
  t.is(got.length, 150);
  t.true(
    got.every(({ i, r, port }) => r.result.primaryPort === port && sha256(r.body) === sha256(itemBody(i))),
  );
  for (const server of servers) t.is(server.requests.length, 50);
});

test('running$ replays the current count to a late subscriber', async (t) => {
  const server = await useServer(t, (req, res) => {
    if (req.url !== '/hang') res.end('ok');
  });
  const curl = useCurl(t);
  const subscriptions = [0, 1, 2].map(() => curl.transfer(`${server.url}/hang`).subscribe());
  await waitFor(() => server.requests.length === 3, 'the three requests to arrive');
  t.is(await firstValueFrom(curl.running$), 3);
  t.like(curl.stats(), { transfers: 3, easyHandles: 3 });
  t.true(curl.stats().sockets >= 1);
  for (const s of subscriptions) s.unsubscribe();
  await lastValueFrom(curl.request(`${server.url}/ok`)); // one more action after the cancellations
  t.is(await firstValueFrom(curl.running$), 0);
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('recheckAll() while transfers run disturbs none of them', async (t) => {
  const server = await serveItems(t);
  const curl = useCurl(t);
  const ticker = setInterval(() => curl.recheckAll(), 1);
  t.teardown(() => clearInterval(ticker));
  const got = await lastValueFrom(
    range(200).pipe(
      mergeMap((i) => curl.request(`${server.url}/item/${i}`).pipe(map((r) => ({ i, r }))), 20),
      toArray(),
    ),
  );
  clearInterval(ticker);
  t.is(got.length, 200);
  t.true(got.every(({ i, r }) => sha256(r.body) === sha256(itemBody(i))));
  curl.recheckAll(); // and with nothing in flight
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});
