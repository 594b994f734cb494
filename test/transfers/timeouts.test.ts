// Request timeouts (timeoutMs) that cut a transfer at any point, and several at once.
import test from 'ava';
import { lastValueFrom } from 'rxjs';
import { CurlError } from '../../src/index.js';
import { startTcpServer, useCurl } from '../helpers/servers.js';

test('a response head that arrives, then nothing, is cut by timeoutMs with the response already emitted', async (t) => {
  const server = await startTcpServer((socket) => {
    socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf'));
  });
  t.teardown(() => server.close());
  const curl = useCurl(t);
  const events: string[] = [];
  const error = await new Promise<unknown>((resolve) => {
    curl.transfer({ url: `${server.url}/`, timeoutMs: 150 }).subscribe({
      next: (e) => events.push(e.type),
      error: resolve,
      complete: () => resolve(undefined),
    });
  });
  t.true(error instanceof CurlError);
  t.like(error, { code: 28 });
  t.deepEqual(events, ['response', 'data']);
});

test('several timeouts at once each fire, in order of their deadline', async (t) => {
  const server = await startTcpServer((socket) => {
    socket.resume();
  });
  t.teardown(() => server.close());
  const curl = useCurl(t);
  const order: number[] = [];
  curl.results$.subscribe((r) => order.push(Number(new URL(r.url).pathname.slice(1))));
  // Deadlines far apart: requests started under load can start a little apart too.
  const timeouts = [1200, 150, 600];
  const errors = await Promise.all(
    timeouts.map((ms) =>
      lastValueFrom(curl.request({ url: `${server.url}/${ms}`, timeoutMs: ms })).then(
        () => undefined,
        (e: unknown) => e,
      ),
    ),
  );
  t.true(errors.every((e) => e instanceof CurlError && e.code === 28));
  t.deepEqual(order, [150, 600, 1200]);
  t.false(curl.stats().timerArmed);
});
