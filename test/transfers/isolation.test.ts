// A user's handler that throws must only affect that user's own subscription.
// RxJS reports an error thrown by a subscriber's handler asynchronously (reportUnhandledError:
// a setTimeout that throws); config.onUnhandledError captures it here instead of crashing the process.
import test, { type ExecutionContext } from 'ava';
import { config, lastValueFrom, map, mergeMap, range, toArray } from 'rxjs';
import { body, type Curl, CurlError } from '../../src/index.js';
import { delay, freePort, randomPayload, sha256, useCurl, useServer, waitFor } from '../helpers/servers.js';

const unhandled: unknown[] = [];
let previous: typeof config.onUnhandledError;

test.before(() => {
  previous = config.onUnhandledError;
  config.onUnhandledError = (err) => unhandled.push(err);
});

test.after.always(async () => {
  await delay(20); // let reports scheduled by the last test arrive here, not in the next file
  config.onUnhandledError = previous;
});

const payloads = [0, 1, 2, 3, 4].map(() => randomPayload(256 * 1024));

/** /stream/<i> sends payload i in 16 writes, a turn apart, so transfers overlap. */
function serveStreams(t: ExecutionContext) {
  return useServer(t, (req, res) => {
    const payload = payloads[Number(/\d+$/.exec(req.url ?? '')?.[0] ?? 0)];
    res.writeHead(200, { 'content-length': payload.length });
    let at = 0;
    const step = 16 * 1024;
    const write = () => {
      if (res.destroyed) return;
      if (at >= payload.length) {
        res.end();
        return;
      }
      res.write(payload.subarray(at, at + step));
      at += step;
      setImmediate(write);
    };
    write();
  });
}

/** The other four transfers, run while `misbehave` runs; their bodies must be exact. */
function others(curl: Curl, base: string) {
  return lastValueFrom(
    range(1, 4).pipe(
      mergeMap((i) =>
        curl.transfer(`${base}/stream/${i}`).pipe(
          body(),
          map((bytes) => ({ i, bytes })),
        ),
      ),
      toArray(),
    ),
  );
}

function checkOthers(t: ExecutionContext, got: Array<{ i: number; bytes: Buffer }>) {
  t.is(got.length, 4);
  for (const { i, bytes } of got) t.is(sha256(bytes), sha256(payloads[i]), `transfer ${i}`);
}

test('a subscriber whose next handler throws does not disturb other transfers', async (t) => {
  const server = await serveStreams(t);
  const curl = useCurl(t);
  const thrown: Error[] = [];
  let completed = false;
  curl.transfer(`${server.url}/stream/0`).subscribe({
    next: (event) => {
      const error = new Error(`handler failed on ${event.type}`);
      thrown.push(error);
      throw error;
    },
    complete: () => {
      completed = true;
    },
  });
  checkOthers(t, await others(curl, server.url));
  await waitFor(() => completed, 'the throwing subscriber to complete');
  await waitFor(() => thrown.every((e) => unhandled.includes(e)), 'every thrown error to be reported');
  t.true(thrown.length >= 3, 'response, data…, done each reached the handler');
  const response = await lastValueFrom(curl.request(`${server.url}/stream/2`));
  t.is(sha256(response.body), sha256(payloads[2]), 'the Curl still works');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('an operator that throws fails only its own transfer, which is cancelled', async (t) => {
  const server = await serveStreams(t);
  const curl = useCurl(t);
  const boom = new Error('operator failed');
  const failing = lastValueFrom(
    curl.transfer(`${server.url}/stream/0`).pipe(
      map((event) => {
        if (event.type === 'data') throw boom;
        return event;
      }),
    ),
  );
  const [failure, got] = await Promise.all([
    failing.then(
      () => undefined,
      (e: unknown) => e,
    ),
    others(curl, server.url),
  ]);
  t.is(failure, boom);
  checkOthers(t, got);
  await waitFor(
    () => server.requests.length === 5 && server.sockets.size <= 4,
    'the failed transfer to close',
  );
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('an error handler that throws does not disturb other transfers', async (t) => {
  const server = await serveStreams(t);
  const port = await freePort();
  const curl = useCurl(t);
  const thrown = new Error('error handler failed');
  let seen: unknown;
  curl.transfer(`http://127.0.0.1:${port}/`).subscribe({
    error: (err) => {
      seen = err;
      throw thrown;
    },
  });
  checkOthers(t, await others(curl, server.url));
  await waitFor(() => unhandled.includes(thrown), 'the thrown error to be reported');
  t.true(seen instanceof CurlError);
  t.like(seen, { code: 7 });
});

test('results$ and running$ subscribers that throw do not disturb the transfers', async (t) => {
  const server = await serveStreams(t);
  const curl = useCurl(t);
  const fromResults = new Error('results$ subscriber failed');
  const fromRunning = new Error('running$ subscriber failed');
  curl.results$.subscribe(() => {
    throw fromResults;
  });
  curl.running$.subscribe(() => {
    throw fromRunning;
  });
  checkOthers(t, await others(curl, server.url));
  await waitFor(
    () => unhandled.includes(fromResults) && unhandled.includes(fromRunning),
    'both errors to be reported',
  );
  const response = await lastValueFrom(curl.request(`${server.url}/stream/1`));
  t.is(sha256(response.body), sha256(payloads[1]));
});
