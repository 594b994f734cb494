import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import {
  asyncScheduler,
  concat,
  from,
  lastValueFrom,
  type SchedulerAction,
  type SchedulerLike,
  tap,
  throwError,
  toArray,
} from 'rxjs';
import {
  body,
  CurlError,
  type CurlResponse,
  ensureOk,
  HttpError,
  isTransient,
  json,
  retryTransient,
  type TransferEvent,
  type TransferResult,
  text,
  toFile,
} from '../../src/index.js';
import {
  freePort,
  randomPayload,
  readBody,
  sha256,
  startServer,
  startTcpServer,
  type TestServer,
  useCurl,
  useServer,
  useTempDir,
  waitFor,
} from '../helpers/servers.js';

const BINARY = randomPayload(300_000);

/** asyncScheduler, recording the delay of everything scheduled on it: retryTransient's waits. */
function recordingScheduler(): { scheduler: SchedulerLike; delays: number[] } {
  const delays: number[] = [];
  const scheduler: SchedulerLike = {
    now: () => asyncScheduler.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T) {
      delays.push(delay ?? 0);
      return asyncScheduler.schedule(work, delay, state);
    },
  };
  return { scheduler, delays };
}

test('body(), text() and json() on transfer() collect the body', async (t) => {
  const large = randomPayload(3 * 1024 * 1024);
  const server = await useServer(t, (req, res) => {
    if (req.url === '/bin') res.end(large);
    else if (req.url === '/text') res.end('grüße, 世界 ✓');
    else
      res
        .setHeader('content-type', 'application/json')
        .end(JSON.stringify({ a: [1, 2, { b: null }], s: 'x' }));
  });
  const curl = useCurl(t);
  let chunks = 0;
  const bytes = await lastValueFrom(
    curl.transfer(`${server.url}/bin`).pipe(
      tap((event) => {
        if (event.type === 'data') chunks++;
      }),
      body(),
    ),
  );
  t.true(Buffer.isBuffer(bytes));
  t.true(chunks > 1, `body() joined ${chunks} data events`);
  t.is(sha256(bytes), sha256(large));
  t.is(await lastValueFrom(curl.transfer(`${server.url}/text`).pipe(text())), 'grüße, 世界 ✓');
  t.deepEqual(await lastValueFrom(curl.transfer(`${server.url}/json`).pipe(json())), {
    a: [1, 2, { b: null }],
    s: 'x',
  });
});

test('body() of an empty response is an empty Buffer; json() of invalid JSON errors', async (t) => {
  const server = await useServer(t, (req, res) => res.end(req.url === '/bad' ? '{nope' : ''));
  const curl = useCurl(t);
  const empty = await lastValueFrom(curl.transfer(`${server.url}/empty`).pipe(body()));
  t.is(empty.length, 0);
  await t.throwsAsync(lastValueFrom(curl.transfer(`${server.url}/bad`).pipe(json())), {
    instanceOf: SyntaxError,
  });
});

function serve500(t: ExecutionContext) {
  return useServer(t, (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain', 'x-trace': 'abc123' }).end('it broke');
  });
}

test('ensureOk() on transfer(): a 500 is an HttpError with status, headers and url, before any body; the transfer is cancelled', async (t) => {
  // A large body, sent slowly: 64 KiB every 10 ms, for far longer than the test. If ensureOk()
  // waited for the body, or let data through, or left the transfer running, it would show.
  const piece = randomPayload(64 * 1024);
  let sent = 0;
  let closedMidBody: boolean | undefined;
  const server = await useServer(t, (req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain', 'x-trace': 'abc123' });
    const timer = setInterval(() => {
      if (sent++ < 10_000) res.write(piece);
      else res.end();
    }, 10);
    res.write(piece);
    req.socket.once('close', () => {
      clearInterval(timer);
      closedMidBody = !res.writableFinished;
    });
  });
  const curl = useCurl(t);
  const passed: string[] = [];
  const err = await t.throwsAsync(
    lastValueFrom(
      curl.transfer(`${server.url}/fail`).pipe(
        ensureOk(),
        tap((event) => passed.push(event.type)),
      ),
    ),
  );
  t.true(err instanceof HttpError);
  const httpError = err as HttpError;
  t.is(httpError.status, 500);
  t.is(httpError.headers['x-trace'], 'abc123');
  t.is(httpError.headers['content-type'], 'text/plain');
  t.is(httpError.url, `${server.url}/fail`);
  t.is(httpError.response, undefined, 'nothing was buffered');
  t.deepEqual(passed, [], 'no event, and so no data, passed ensureOk()');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 }, 'the transfer was cancelled');
  await waitFor(() => closedMidBody !== undefined, 'the server to see the connection close');
  t.true(closedMidBody, 'the connection closed while the server was still sending the body');
});

test('ensureOk() on request(): a 500 is an HttpError that carries the buffered response', async (t) => {
  const server = await serve500(t);
  const curl = useCurl(t);
  const err = await t.throwsAsync(lastValueFrom(curl.request(`${server.url}/fail`).pipe(ensureOk())));
  t.true(err instanceof HttpError);
  const httpError = err as HttpError;
  t.is(httpError.status, 500);
  t.is(httpError.headers['x-trace'], 'abc123');
  t.is(httpError.url, `${server.url}/fail`);
  t.is((httpError.response as CurlResponse).text(), 'it broke');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('ensureOk() lets a 2xx or 3xx through unchanged', async (t) => {
  const server = await useServer(t, (req, res) => {
    if (req.url === '/204') res.writeHead(204).end();
    else if (req.url === '/304') res.writeHead(304).end();
    else res.end('fine');
  });
  const curl = useCurl(t);
  const ok = await lastValueFrom(curl.request(`${server.url}/200`).pipe(ensureOk()));
  t.is(ok.status, 200);
  t.is(ok.text(), 'fine');
  t.is((await lastValueFrom(curl.request(`${server.url}/204`).pipe(ensureOk()))).status, 204);
  t.is((await lastValueFrom(curl.request(`${server.url}/304`).pipe(ensureOk()))).status, 304);
  const events = await lastValueFrom(curl.transfer(`${server.url}/200`).pipe(ensureOk(), toArray()));
  t.deepEqual(
    events.map((e) => e.type),
    ['response', 'data', 'done'],
    'on transfer() every event passes',
  );
});

test('retryTransient: 503 twice (Retry-After: 0), then 200 → success after 3 requests', async (t) => {
  let hits = 0;
  const server = await useServer(t, (_req, res) => {
    hits++;
    if (hits <= 2) res.writeHead(503, { 'retry-after': '0' }).end('busy');
    else res.end('finally');
  });
  const curl = useCurl(t);
  const { scheduler, delays } = recordingScheduler();
  const response = await lastValueFrom(
    curl
      .request(`${server.url}/flaky`)
      .pipe(ensureOk(), retryTransient({ count: 3, baseDelayMs: 5_000, maxDelayMs: 10_000, scheduler })),
  );
  t.is(response.text(), 'finally');
  t.is(hits, 3);
  t.deepEqual(delays, [0, 0], 'Retry-After: 0 replaced the 5 s and 10 s backoff');
});

test('retryTransient: on transfer() too, a 503 then 200 gives one clean body', async (t) => {
  let hits = 0;
  const server = await useServer(t, (_req, res) => {
    hits++;
    if (hits === 1) res.writeHead(503, { 'retry-after': '0' }).end('busy busy');
    else res.end('whole body');
  });
  const curl = useCurl(t);
  const result = await lastValueFrom(
    curl
      .transfer(`${server.url}/`)
      .pipe(ensureOk(), retryTransient({ count: 2, baseDelayMs: 1, maxDelayMs: 10 }), text()),
  );
  t.is(result, 'whole body');
  t.is(hits, 2);
});

test('retryTransient: a 404 is not retried', async (t) => {
  let hits = 0;
  const server = await useServer(t, (_req, res) => {
    hits++;
    res.writeHead(404).end('gone');
  });
  const curl = useCurl(t);
  const err = await t.throwsAsync(
    lastValueFrom(
      curl
        .request(`${server.url}/nope`)
        .pipe(ensureOk(), retryTransient({ count: 5, baseDelayMs: 1, maxDelayMs: 10 })),
    ),
  );
  t.true(err instanceof HttpError);
  t.is((err as HttpError).status, 404);
  t.is(hits, 1);
});

test('retryTransient: connection refused (code 7) is retried `count` times, then fails', async (t) => {
  const port = await freePort();
  const curl = useCurl(t);
  const results: TransferResult[] = [];
  const subscription = curl.results$.subscribe((r) => results.push(r));
  t.teardown(() => subscription.unsubscribe());
  const { scheduler, delays } = recordingScheduler();
  const err = await t.throwsAsync(
    lastValueFrom(
      curl
        .request(`http://127.0.0.1:${port}/`)
        .pipe(retryTransient({ count: 3, baseDelayMs: 2, maxDelayMs: 5, scheduler })),
    ),
  );
  t.deepEqual(delays, [2, 4, 5], 'exponential backoff, capped at maxDelayMs');
  t.true(err instanceof CurlError);
  t.is((err as CurlError).code, 7);
  t.is((err as CurlError).codeName, 'CURLE_COULDNT_CONNECT');
  t.is(results.length, 4, 'the first attempt and 3 retries');
  t.true(results.every((r) => !r.ok && r.code === 7));
});

/** A server that reads each upload whole, then answers 503 to the first `failures` and 200 after. */
async function failingUploadServer(t: ExecutionContext, failures: number) {
  const bodies: string[] = [];
  const server = await useServer(t, async (req, res) => {
    bodies.push(sha256(await readBody(req)));
    res.statusCode = bodies.length <= failures ? 503 : 200;
    res.setHeader('retry-after', '0');
    res.end(String(bodies.length));
  });
  return { server, bodies };
}

test('retryTransient: a 503 to a Readable upload is not retried — the stream was sent once', async (t) => {
  const { server, bodies } = await failingUploadServer(t, 1);
  const curl = useCurl(t);
  const upload = Readable.from([BINARY.subarray(0, 100_000), BINARY.subarray(100_000)]);
  const err = await t.throwsAsync(
    lastValueFrom(
      curl
        .request({ url: `${server.url}/up`, method: 'PUT', body: upload })
        .pipe(ensureOk(), retryTransient({ count: 3, baseDelayMs: 1, maxDelayMs: 5 })),
    ),
    { instanceOf: HttpError },
  );
  t.is((err as HttpError).status, 503);
  t.deepEqual(bodies, [sha256(BINARY)], 'one attempt, with the whole body');
  t.false(isTransient(err), 'the error says retrying cannot help');
});

test('retryTransient: a transfer() Readable upload cut mid-body is not retried either', async (t) => {
  let connections = 0;
  const server = await startTcpServer((socket) => {
    connections++;
    let received = 0;
    socket.on('data', (chunk) => {
      received += chunk.length;
      if (received > 500_000) socket.destroy(); // cut once libcurl is well into the body
    });
  });
  t.teardown(() => server.close());
  const curl = useCurl(t);
  const upload = Readable.from(
    (function* () {
      for (let i = 0; i < 64; i++) yield BINARY;
    })(),
  );
  const err = await t.throwsAsync(
    lastValueFrom(
      curl
        .transfer({ url: `${server.url}/up`, method: 'PUT', body: upload })
        .pipe(retryTransient({ count: 3, baseDelayMs: 1, maxDelayMs: 5 })),
    ),
    { instanceOf: CurlError },
  );
  t.true(
    [52, 55, 56].includes((err as CurlError).code as number),
    `a send, receive or empty-reply error, got ${(err as CurlError).codeName}`,
  );
  t.is(connections, 1, 'no second attempt');
});

test('retryTransient: an Observable upload is subscribed again, so it is retried with the whole body', async (t) => {
  const { server, bodies } = await failingUploadServer(t, 2);
  const curl = useCurl(t);
  const upload = from([BINARY.subarray(0, 1000), BINARY.subarray(1000)]);
  const res = await lastValueFrom(
    curl
      .request({ url: `${server.url}/up`, method: 'PUT', body: upload })
      .pipe(ensureOk(), retryTransient({ count: 3, baseDelayMs: 1, maxDelayMs: 5 })),
  );
  t.is(res.status, 200);
  t.deepEqual(bodies, [sha256(BINARY), sha256(BINARY), sha256(BINARY)]);
});

test('retryTransient: a Readable upload that never connected (code 7) is untouched, so it is retried', async (t) => {
  const port = await freePort();
  const curl = useCurl(t);
  const upload = Readable.from([BINARY]);
  const bodies: string[] = [];
  let server: TestServer | undefined;
  t.teardown(() => server?.close());
  const scheduler: SchedulerLike = {
    now: () => asyncScheduler.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T) {
      // The first attempt was refused: open the port before the retry runs.
      const opening = startServer(async (req, res) => {
        bodies.push(sha256(await readBody(req)));
        res.end('ok');
      }, port);
      return asyncScheduler.schedule(
        function (this: SchedulerAction<T>, s?: T) {
          opening.then((opened) => {
            server = opened;
            work.call(this, s);
          });
        },
        delay,
        state,
      );
    },
  };
  const res = await lastValueFrom(
    curl
      .request({ url: `http://127.0.0.1:${port}/up`, method: 'PUT', body: upload })
      .pipe(ensureOk(), retryTransient({ count: 1, baseDelayMs: 1, maxDelayMs: 5, scheduler })),
  );
  t.is(res.text(), 'ok');
  t.deepEqual(bodies, [sha256(BINARY)], 'the retry sent the whole stream');
});

test('a Readable that an earlier transfer consumed is refused with INVALID_INPUT naming body', async (t) => {
  const { server } = await failingUploadServer(t, 0);
  const curl = useCurl(t);
  const upload = Readable.from([BINARY]);
  const request = curl.request({ url: `${server.url}/up`, method: 'PUT', body: upload });
  t.is((await lastValueFrom(request)).status, 200);
  const err = await t.throwsAsync(lastValueFrom(request), { instanceOf: CurlError });
  t.is((err as CurlError).code, 'INVALID_INPUT');
  t.regex((err as CurlError).message, /body .*already consumed/);
});

test('toFile(keepPartial): every byte that arrived is on disk when the error is delivered', async (t) => {
  const dir = useTempDir(t, 'rxcurl-tofile-');
  const path = join(dir, 'part.bin');
  const chunks = Array.from({ length: 200 }, (_, i) => BINARY.subarray(i * 1000, i * 1000 + 1000));
  const failure = new Error('connection lost');
  const events$ = concat(
    from<TransferEvent[]>([
      { type: 'response', status: 200, httpVersion: '1.1', headers: {}, url: 'http://example.test/' },
      ...chunks.map((chunk): TransferEvent => ({ type: 'data', chunk })),
    ]),
    throwError(() => failure),
  );
  const error = await t.throwsAsync(lastValueFrom(events$.pipe(toFile(path, { keepPartial: true }))));
  t.is(error, failure);
  t.is(sha256(readFileSync(path)), sha256(Buffer.concat(chunks)), 'all 200,000 bytes, in order');
});
