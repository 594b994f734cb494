import { getEventListeners } from 'node:events';
import type { IncomingMessage } from 'node:http';
import test, { type ExecutionContext } from 'ava';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { CurlError, type TransferEvent } from '../../src/index.js';
import { delay, randomPayload, useCurl, useServer, waitFor } from '../helpers/servers.js';

const CHUNK = randomPayload(16 * 1024);

/**
 * /slow streams 16 KiB every 10 ms for a long time; /hang never answers. Each request's socket
 * close is recorded, and /slow's writes are counted so a test can see the stream stop.
 */
async function serveSlow(t: ExecutionContext) {
  const closed: IncomingMessage[] = [];
  const server = await useServer(t, (req, res) => {
    req.socket.once('close', () => closed.push(req));
    if (req.url === '/hang') return;
    if (req.url === '/ok') {
      res.end('ok');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed || sent >= 500) {
        clearInterval(timer);
        if (!res.destroyed) res.end();
        return;
      }
      sent++;
      res.write(CHUNK);
    }, 10);
    res.on('close', () => clearInterval(timer));
  });
  return { ...server, closed };
}

test('unsubscribing after the first data event closes the connection and stops the events', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  const events: TransferEvent['type'][] = [];
  let after = 0;
  let unsubscribed = false;
  const errors: unknown[] = [];
  let completed = false;
  await new Promise<void>((resolve) => {
    const subscription = curl.transfer(`${server.url}/slow`).subscribe({
      next: (event) => {
        if (unsubscribed) after++;
        events.push(event.type);
        if (event.type === 'data') {
          unsubscribed = true;
          subscription.unsubscribe();
          resolve();
        }
      },
      error: (err) => errors.push(err),
      complete: () => {
        completed = true;
      },
    });
  });
  await waitFor(() => server.closed.length === 1, 'the server to see the connection close');
  await delay(50);
  t.deepEqual(events, ['response', 'data']);
  t.is(after, 0, 'no event after unsubscribe');
  t.deepEqual(errors, []);
  t.false(completed);
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('take(n) cancels the transfer from inside the data handler', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  const events = await lastValueFrom(curl.transfer(`${server.url}/slow`).pipe(take(3), toArray()));
  t.deepEqual(
    events.map((e) => e.type),
    ['response', 'data', 'data'],
  );
  await waitFor(() => server.closed.length === 1, 'the server to see the connection close');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('unsubscribing from outside a callback, before any response, closes the connection', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  const seen: unknown[] = [];
  const subscription = curl.transfer(`${server.url}/hang`).subscribe({
    next: (e) => seen.push(e),
    error: (e) => seen.push(e),
    complete: () => seen.push('complete'),
  });
  await waitFor(() => server.requests.length === 1, 'the request to arrive');
  t.is(curl.stats().transfers, 1);
  subscription.unsubscribe();
  t.is(curl.stats().transfers, 0);
  await waitFor(() => server.closed.length === 1, 'the server to see the connection close');
  t.deepEqual(seen, []);
  t.is(curl.stats().easyHandles, 0);
});

test('unsubscribing a buffered request() mid-body closes the connection', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  const subscription = curl.request(`${server.url}/slow`).subscribe({
    next: () => t.fail('no response expected'),
    error: (err) => t.fail(String(err)),
  });
  await waitFor(() => server.requests.length === 1, 'the request to arrive');
  await delay(50);
  subscription.unsubscribe();
  await waitFor(() => server.closed.length === 1, 'the server to see the connection close');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('a cancelled transfer does not disturb the Curl: the next request succeeds', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  await lastValueFrom(curl.transfer(`${server.url}/slow`).pipe(take(2), toArray()));
  const response = await lastValueFrom(curl.request(`${server.url}/ok`));
  t.is(response.text(), 'ok');
});

test('aborting the signal errors the transfer with ABORTED and closes the connection', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  const controller = new AbortController();
  const url = `${server.url}/slow`;
  const events: string[] = [];
  const error = await new Promise<unknown>((resolve) => {
    curl.transfer({ url, signal: controller.signal }).subscribe({
      next: (e) => {
        events.push(e.type);
        if (e.type === 'data' && events.length === 2) setTimeout(() => controller.abort(), 0);
      },
      error: resolve,
      complete: () => resolve(undefined),
    });
  });
  t.true(error instanceof CurlError);
  t.like(error, { code: 'ABORTED', codeName: 'ABORTED', url });
  t.is(events[0], 'response');
  t.false(events.includes('done'));
  await waitFor(() => server.closed.length === 1, 'the server to see the connection close');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('aborting the signal before any response errors request() with ABORTED', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  const controller = new AbortController();
  const done = t.throwsAsync(
    lastValueFrom(curl.request({ url: `${server.url}/hang`, signal: controller.signal })),
    {
      instanceOf: CurlError,
    },
  );
  await waitFor(() => server.requests.length === 1, 'the request to arrive');
  controller.abort();
  const error = await done;
  t.is(error.code, 'ABORTED');
  await waitFor(() => server.closed.length === 1, 'the server to see the connection close');
});

test('one signal shared by 50 transfers aborts them all, with one listener and no warning', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  const controller = new AbortController();
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const all = Array.from({ length: 50 }, () =>
    t.throwsAsync(lastValueFrom(curl.request({ url: `${server.url}/hang`, signal: controller.signal })), {
      instanceOf: CurlError,
    }),
  );
  await waitFor(() => server.requests.length === 50, 'the 50 requests to arrive');
  t.is(getEventListeners(controller.signal, 'abort').length, 1);
  controller.abort();
  for (const error of await Promise.all(all)) t.is(error.code, 'ABORTED');
  await delay(10); // process warnings are emitted on the next tick
  t.deepEqual(
    warnings.map((w) => w.name),
    [],
  );
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('an already aborted signal errors with ABORTED and sends nothing', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  const error = await t.throwsAsync(
    lastValueFrom(curl.request({ url: `${server.url}/ok`, signal: AbortSignal.abort() })),
    { instanceOf: CurlError },
  );
  t.is(error.code, 'ABORTED');
  await delay(20);
  t.is(server.requests.length, 0);
});

test('a signal that is never aborted changes nothing, and one signal can serve many transfers', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  const controller = new AbortController();
  for (let i = 0; i < 3; i++) {
    const response = await lastValueFrom(
      curl.request({ url: `${server.url}/ok`, signal: controller.signal }),
    );
    t.is(response.text(), 'ok');
  }
  controller.abort(); // after completion: nothing to abort, nothing thrown
  t.is(curl.stats().transfers, 0);
});

test('aborting the signal synchronously inside a data handler errors with ABORTED and stops the events', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  const controller = new AbortController();
  const events: string[] = [];
  const error = await new Promise<unknown>((resolve) => {
    curl.transfer({ url: `${server.url}/slow`, signal: controller.signal }).subscribe({
      next: (e) => {
        events.push(e.type);
        if (e.type === 'data') controller.abort();
      },
      error: resolve,
      complete: () => resolve(undefined),
    });
  });
  t.like(error, { code: 'ABORTED' });
  t.deepEqual(events, ['response', 'data']);
  await waitFor(() => server.closed.length === 1, 'the server to see the connection close');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('unsubscribing inside the progress handler cancels the transfer', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  await new Promise<void>((resolve) => {
    const subscription = curl.transfer({ url: `${server.url}/slow`, progress: true }).subscribe({
      next: (e) => {
        if (e.type === 'progress' && e.downloaded > 0) {
          subscription.unsubscribe();
          resolve();
        }
      },
      error: (err) => t.fail(String(err)),
    });
  });
  await waitFor(() => server.closed.length === 1, 'the server to see the connection close');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

// Engine bug (src/core/Engine.ts): running$ is only published after curl_multi_socket_action, and
// a cancellation only calls curl_multi_remove_handle. When the last transfers are cancelled libcurl
// deletes its timer (nothing left to do), no action ever runs again, and running$ keeps replaying
// the old count (3 here) for as long as the Curl lives, while stats() says 0 transfers.
test('running$ falls to 0 once every transfer is cancelled, with no further traffic', async (t) => {
  const server = await serveSlow(t);
  const curl = useCurl(t);
  const subscriptions = [0, 1, 2].map(() => curl.transfer(`${server.url}/hang`).subscribe());
  await waitFor(() => server.requests.length === 3, 'the three requests to arrive');
  await waitFor(() => curl.stats().sockets === 3, 'the three connections to be watched');
  t.is(await firstValueFrom(curl.running$), 3);
  for (const subscription of subscriptions) subscription.unsubscribe();
  await waitFor(() => server.closed.length === 3, 'the server to see the connections close');
  await delay(50);
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
  t.is(await firstValueFrom(curl.running$), 0);
});
