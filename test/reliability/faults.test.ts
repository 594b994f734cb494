// The fault matrix of issue #6: one misbehaving server per case, each on 127.0.0.1. Every case
// asserts the exact CurlError (numeric code and CURLE_ name), that healthy transfers running on the
// same Curl at the same time are not disturbed, and that afterwards the engine is idle
// (stats: 0 transfers, 0 attached handles) and completes a normal transfer.
//
// Some single faults are also tested, with other details (event order, results$), in
// test/transfers/errors.test.ts (52, 18, 28, 63), redirects.test.ts (47), protocols.test.ts (1)
// and test/transfers/tls.test.ts (60); here the point is the uniform "the engine survives" check.
//
// The expectations hold for libcurl 7.88 and 8.x alike (checked against 7.88.1 and 8.14.1); where a
// libcurl release changed the outcome, the case says which (libcurlAtLeast). Times are only bounded
// from below: a timeout never fires before its time, but may fire late on a busy machine.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom, type Observable, tap } from 'rxjs';
import type { Curl, CurlRequest } from '../../src/index.js';
import { makePki, startHttpsServer } from '../helpers/pki.js';
import {
  assertCurlError,
  assertUsable,
  errorOf,
  libcurlAtLeast,
  useHealthyServer,
  useRawServer,
  writeForever,
} from '../helpers/reliability.js';
import { listenForTest, type TestServer, useCurl, useServer } from '../helpers/servers.js';

const pki = makePki();
test.after.always(() => pki.dispose());

const HEAD_100K = 'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n';

/**
 * Runs `fault$` on a fresh Curl while 5 healthy transfers run beside it; checks the fault's error,
 * the healthy bodies, and that the engine is idle and usable afterwards. Returns the error.
 */
async function faultCase(
  t: ExecutionContext,
  fault: (curl: Curl) => Observable<unknown>,
  code: number,
  codeName: string,
) {
  const healthy = await useHealthyServer(t);
  const curl = useCurl(t);
  const [error, ...bodies] = await Promise.all([
    errorOf(fault(curl)),
    ...[1, 2, 3, 4, 5].map((i) =>
      lastValueFrom(curl.request(`${healthy.url}/ok/${i * 10_000}`)).then((r) => r.body),
    ),
  ]);
  bodies.forEach((body, i) => {
    t.true((body as Buffer).equals(Buffer.alloc((i + 1) * 10_000, 'a')), `healthy transfer ${i} is exact`);
  });
  const e = assertCurlError(t, error, code, codeName);
  t.is(e.result?.code, code, 'the TransferResult carries the same code');
  await assertUsable(t, curl, healthy);
  return e;
}

test('connection reset mid-body → 56 CURLE_RECV_ERROR', async (t) => {
  const server = await useRawServer(t, (socket) => {
    socket.write(HEAD_100K + 'x'.repeat(1000));
    setTimeout(() => socket.resetAndDestroy(), 30);
  });
  const e = await faultCase(t, (curl) => curl.transfer(`${server.url}/`), 56, 'CURLE_RECV_ERROR');
  t.regex(e.message, /reset/i);
  t.is(e.result?.downloadedBytes, 1000);
});

test('connection closed before any header → 52 CURLE_GOT_NOTHING', async (t) => {
  const server = await useRawServer(t, (socket) => socket.end());
  await faultCase(t, (curl) => curl.request(`${server.url}/`), 52, 'CURLE_GOT_NOTHING');
});

test('connection closed inside the status line → 52 CURLE_GOT_NOTHING', async (t) => {
  const server = await useRawServer(t, (socket) => socket.end('HTTP/1.1 20'));
  await faultCase(t, (curl) => curl.request(`${server.url}/`), 52, 'CURLE_GOT_NOTHING');
});

test('connection closed after a Content-Length header, before the blank line → 18 CURLE_PARTIAL_FILE', async (t) => {
  const server = await useRawServer(t, (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n'));
  await faultCase(t, (curl) => curl.request(`${server.url}/`), 18, 'CURLE_PARTIAL_FILE');
});

test('a reply that is not HTTP (no status line) → 1 CURLE_UNSUPPORTED_PROTOCOL: HTTP/0.9 is refused', async (t) => {
  const server = await useRawServer(t, (socket) => socket.end('garbage\r\n\r\n'));
  const e = await faultCase(t, (curl) => curl.request(`${server.url}/`), 1, 'CURLE_UNSUPPORTED_PROTOCOL');
  t.regex(e.message, /HTTP\/0\.9/);
});

test('libcurl quirk, pinned: a head cut inside a header line, with no length, is a 200 with an empty body', async (t) => {
  // Not an error in libcurl 7.88 nor 8.14: with no Content-Length the body ends at EOF, and the
  // partial line is dropped. Pinned so that a libcurl that changes this is noticed (see the README,
  // Security).
  const server = await useRawServer(t, (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Le'));
  const healthy = await useHealthyServer(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request(`${server.url}/`));
  t.is(response.status, 200);
  t.is(response.body.length, 0);
  t.deepEqual(response.headers, {});
  await assertUsable(t, curl, healthy);
});

test('body shorter than Content-Length, then FIN → 18 CURLE_PARTIAL_FILE', async (t) => {
  const server = await useRawServer(t, (socket) => socket.end(HEAD_100K + 'x'.repeat(1234)));
  const e = await faultCase(t, (curl) => curl.request(`${server.url}/`), 18, 'CURLE_PARTIAL_FILE');
  t.is(e.result?.downloadedBytes, 1234);
});

test('invalid chunked encoding → 56 CURLE_RECV_ERROR', async (t) => {
  const server = await useRawServer(t, (socket) =>
    socket.end(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\nnot a chunk\r\n0\r\n\r\n',
    ),
  );
  const e = await faultCase(t, (curl) => curl.transfer(`${server.url}/`), 56, 'CURLE_RECV_ERROR');
  // 7.88: "Illegal or missing hexadecimal sequence in chunked-encoding"; 8.14: "chunk hex-length
  // char not a hex digit: 0x5a".
  t.regex(e.message, /chunk/);
});

test('a server that stalls after the head: timeoutMs → 28 CURLE_OPERATION_TIMEDOUT, not before', async (t) => {
  const server = await useRawServer(t, (socket) => socket.write(HEAD_100K + 'x'.repeat(10)));
  let ms = 0;
  await faultCase(
    t,
    (curl) => {
      const started = performance.now();
      return curl
        .transfer({ url: `${server.url}/`, timeoutMs: 300 })
        .pipe(tap({ error: () => (ms = performance.now() - started) }));
    },
    28,
    'CURLE_OPERATION_TIMEDOUT',
  );
  t.true(ms >= 300, `ended after ${ms.toFixed(0)} ms`);
});

// The engine's timeout backstop counts timeoutMs + 250 ms from the subscription, libcurl its timeout
// from its first action on the transfer, a turn of the event loop later. When the loop is busy for
// more than 250 ms in between (a loaded machine, or synchronous user code), the backstop must not end
// a transfer that libcurl runs: it gives libcurl a timeout action first, and leaves a transfer that
// has a response to libcurl's own timer. Serial, so that its busy loop delays no other test of this file.
test.serial(
  'a busy event loop right after subscribing: libcurl, not the backstop, ends the transfer at its timeout',
  async (t) => {
    const server = await useRawServer(t, (socket) => socket.write(HEAD_100K + 'x'.repeat(10)));
    const curl = useCurl(t);
    const error = errorOf(curl.transfer({ url: `${server.url}/`, timeoutMs: 300 }));
    const until = performance.now() + 400;
    while (performance.now() < until); // busy: libcurl starts the transfer 400 ms after the subscription
    const e = assertCurlError(t, await error, 28, 'CURLE_OPERATION_TIMEDOUT');
    t.is(e.result?.code, 28, `ended by libcurl, with its TransferResult: ${e.message}`);
    t.is(e.result?.downloadedBytes, 10);
  },
);

test('a server that trickles: lowSpeed → 28 CURLE_OPERATION_TIMEDOUT (CURLOPT_LOW_SPEED_*)', async (t) => {
  const server = await useRawServer(t, (socket) => {
    socket.write(HEAD_100K);
    const ticker = setInterval(() => (socket.destroyed ? clearInterval(ticker) : socket.write('x')), 50);
    socket.on('close', () => clearInterval(ticker));
  });
  const e = await faultCase(
    t,
    (curl) => curl.transfer({ url: `${server.url}/`, lowSpeed: { bytesPerSecond: 1000, seconds: 1 } }),
    28,
    'CURLE_OPERATION_TIMEDOUT',
  );
  t.regex(e.message, /too slow/i);
  const ms = e.result!.timings.totalMs;
  t.true(ms >= 900, `after ${ms} ms: not before the second of low speed was over`);
});

test('a host that does not resolve (.invalid) → 6 CURLE_COULDNT_RESOLVE_HOST', async (t) => {
  await faultCase(t, (curl) => curl.request('http://no-such-host.invalid/'), 6, 'CURLE_COULDNT_RESOLVE_HOST');
});

test('TLS handshake with a server that speaks garbage → 35 CURLE_SSL_CONNECT_ERROR', async (t) => {
  const server = await useRawServer(t, (socket) => socket.end('this is not TLS\r\n\r\n'));
  await faultCase(
    t,
    (curl) => curl.request(server.url.replace('http:', 'https:')),
    35,
    'CURLE_SSL_CONNECT_ERROR',
  );
});

test('TLS with a certificate the default CA store does not know → 60 CURLE_PEER_FAILED_VERIFICATION', async (t) => {
  const server = await startHttpsServer(pki, (_req, res) => res.end('secret'));
  t.teardown(() => server.close());
  await faultCase(t, (curl) => curl.request(server.url), 60, 'CURLE_PEER_FAILED_VERIFICATION');
});

test('an endless stream of header lines → 56 CURLE_RECV_ERROR at libcurl’s 300 KiB head limit', async (t) => {
  let sent = 0;
  const server = await useRawServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\n');
    let i = 0;
    writeForever(socket, () => {
      const line = `X-Header-${i++}: ${'v'.repeat(100)}\r\n`;
      sent += line.length;
      return line;
    });
  });
  const e = await faultCase(t, (curl) => curl.transfer(`${server.url}/`), 56, 'CURLE_RECV_ERROR');
  t.regex(e.message, /Too large response headers/);
  // libcurl stopped reading soon after 300 KiB; the server was not drained of megabytes.
  t.true(sent < 16 * 1024 * 1024, `the server wrote ${sent} bytes`);
});

// libcurl 7.88 reports a header line over CURL_MAX_HTTP_HEADER (100 KiB) as "Out of memory": its
// buffer refuses to grow past the cap. It is the limit, not an allocation failure. libcurl 8.6.0
// added CURLE_TOO_LARGE (100) for exactly this.
const [lineCode, lineCodeName] = libcurlAtLeast('8.6.0')
  ? [100, 'CURLE_TOO_LARGE']
  : [27, 'CURLE_OUT_OF_MEMORY'];
test(`one endless header line → ${lineCode} ${lineCodeName} at libcurl’s 100 KiB line limit`, async (t) => {
  const server = await useRawServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nX-Long: ');
    writeForever(socket, () => 'v'.repeat(16 * 1024));
  });
  await faultCase(t, (curl) => curl.transfer(`${server.url}/`), lineCode, lineCodeName);
});

function useRedirectLoop(t: ExecutionContext): Promise<TestServer> {
  return useServer(t, (req, res) => {
    res.writeHead(302, { location: req.url === '/a' ? '/b' : '/a' }).end();
  });
}

test('a redirect loop → 47 CURLE_TOO_MANY_REDIRECTS after the default 10', async (t) => {
  const server = await useRedirectLoop(t);
  const e = await faultCase(t, (curl) => curl.request(`${server.url}/a`), 47, 'CURLE_TOO_MANY_REDIRECTS');
  t.is(server.requests.length, 11, 'the request and 10 redirects');
  t.regex(e.message, /\(10\)/);
});

test('a redirect loop with maxRedirects: 3 → 47 after 3', async (t) => {
  const server = await useRedirectLoop(t);
  await faultCase(
    t,
    (curl) => curl.request({ url: `${server.url}/a`, maxRedirects: 3 }),
    47,
    'CURLE_TOO_MANY_REDIRECTS',
  );
  t.is(server.requests.length, 4);
});

for (const location of ['ftp://127.0.0.1:1/x', 'file:///etc/passwd', 'dict://127.0.0.1:1/x']) {
  test(`a redirect to a disallowed protocol (${location}) → 1 CURLE_UNSUPPORTED_PROTOCOL`, async (t) => {
    const server = await useServer(t, (_req, res) => {
      res.writeHead(302, { location }).end();
    });
    const e = await faultCase(t, (curl) => curl.request(`${server.url}/`), 1, 'CURLE_UNSUPPORTED_PROTOCOL');
    t.regex(e.message, /not supported|disabled/i);
    t.is(server.requests.length, 1, 'nothing but the first request was sent');
  });
}

/** An HTTP/2-only TLS server: /reset-before resets the stream at once, /reset-mid after some body. */
async function useH2Resetter(t: ExecutionContext) {
  const server = http2.createSecureServer({ key: pki.serverKey, cert: pki.serverCert, allowHTTP1: false });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    if (headers[':path'] === '/ok') {
      stream.respond({ ':status': 200 });
      setTimeout(() => stream.end('fine'), 20);
      return;
    }
    if (headers[':path'] === '/reset-before') {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    stream.respond({ ':status': 200 });
    stream.write('x'.repeat(1000));
    // destroy() sends RST_STREAM at once; close() would first end the stream cleanly.
    setTimeout(() => stream.destroy(new Error('reset by the test server')), 20);
  });
  return `https://127.0.0.1:${await listenForTest(t, server)}`;
}

for (const path of ['/reset-before', '/reset-mid']) {
  test(`HTTP/2 stream reset by the server (${path}, INTERNAL_ERROR) → 92 CURLE_HTTP2_STREAM`, async (t) => {
    const base = await useH2Resetter(t);
    const request: CurlRequest = { url: `${base}${path}`, httpVersion: '2', tls: { ca: pki.ca } };
    const e = await faultCase(t, (curl) => curl.transfer(request), 92, 'CURLE_HTTP2_STREAM');
    t.regex(e.message, /INTERNAL_ERROR/);
    if (path === '/reset-mid') t.is(e.result?.httpVersion, '2');
  });
}

test('HTTP/2: reset streams do not disturb the other streams of the same connection', async (t) => {
  const base = await useH2Resetter(t);
  const curl = useCurl(t);
  const tls = { ca: pki.ca };
  // A guard, not a bound: under load this test once hung (another Curl in the process closed the
  // poll handle of a resolver fd whose number the server's socket had taken: fixed in SocketPolls);
  // a timeout turns any such hang into a failure that says which transfer and how.
  const run = (path: string) =>
    curl.request({ url: `${base}${path}`, httpVersion: '2', tls, timeoutMs: 30_000 });
  // Warm up one connection, so the next ten transfers multiplex on it.
  const first = await lastValueFrom(run('/ok'));
  t.is(first.text(), 'fine');
  const [resets, oks] = await Promise.all([
    Promise.all(
      ['/reset-before', '/reset-mid', '/reset-before', '/reset-mid', '/reset-before'].map((p) =>
        errorOf(run(p)),
      ),
    ),
    Promise.all([1, 2, 3, 4, 5].map(() => lastValueFrom(run('/ok')))),
  ]);
  for (const error of resets) assertCurlError(t, error, 92, 'CURLE_HTTP2_STREAM');
  for (const response of oks) {
    t.is(response.text(), 'fine');
    t.is(response.httpVersion, '2');
  }
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

/**
 * A plain HTTP/1.1 server that also takes TLS connections on its port and never answers them: a
 * TLS handshake with it hangs (instead of failing at once on an HTTP reply). Counts those.
 */
async function useHttpServerHoldingTls(t: ExecutionContext) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  let tlsConnections = 0;
  const port = await listenForTest(
    t,
    net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', (first: Buffer) => {
        if (first[0] === 0x16) {
          tlsConnections++; // a TLS handshake record: held until the test ends
          return;
        }
        socket.pause();
        socket.unshift(first);
        server.emit('connection', socket);
        socket.resume();
      });
    }),
  );
  return { url: `http://127.0.0.1:${port}`, tlsConnections: () => tlsConnections };
}

// Found by property.test.ts (first pinned as a known failure, fixed by the engine's backstop).
// libcurl 7.88 parks a transfer that asks for CURLOPT_PIPEWAIT in its PENDING state while the
// host's connection bundle has not learnt whether it can multiplex, and it never applies the
// transfer's timeout there: the timer fires at timeoutMs, libcurl does nothing and does not arm it
// again, so the transfer waits forever with no socket and no timer (stats: transfers 1, sockets 0,
// timerArmed false). rxcurl sets PIPEWAIT on every https:// request (and on httpVersion '2'). Found by
// property.test.ts; this is the minimal sequence: h2c and prior-knowledge attempts against an
// HTTP/1.1 server leave its bundle undecided, then an https:// request to the same host and port.
// The engine's backstop (Engine.expire) fails such a transfer with CurlError 28 at its deadline
// plus 250 ms when libcurl has not ended it by then. libcurl 8.14 does not park it: it connects,
// and the server never answers the TLS handshake, so libcurl's own timeout ends it with the same 28.
test('a PIPEWAIT transfer libcurl keeps pending still times out at timeoutMs: 28, not before', async (t) => {
  t.timeout(30_000); // a transfer that never ends fails here
  const server = await useHttpServerHoldingTls(t);
  const curl = useCurl(t);
  const base = server.url;
  const settle = (events$: Observable<unknown>) => errorOf(events$).catch(() => undefined);
  await settle(curl.request({ url: `${base}/a`, method: 'HEAD', httpVersion: '2' }));
  await settle(
    curl.transfer({
      url: `${base}/b`,
      httpVersion: '2-prior-knowledge',
      timeoutMs: 1500,
      lowSpeed: { bytesPerSecond: 999_999, seconds: 1 },
    }),
  );
  await settle(curl.transfer({ url: `${base}/c`, method: 'PUT', httpVersion: '2-prior-knowledge' }));
  // Node's server stops reading the connection of /a (it asked for an h2c upgrade that was not
  // done). libcurl 7.88 sends /d on another connection; 8.14 may send it on that one, where it waits
  // for its timeout. Either is fine here: that open connection is part of what makes 7.88 park the
  // next transfer.
  await settle(curl.request({ url: `${base}/d`, httpVersion: '1.1', timeoutMs: 1000 }));
  const timeoutMs = 1000;
  const started = performance.now();
  const error = await errorOf(curl.transfer({ url: base.replace('http:', 'https:'), timeoutMs }));
  const elapsed = performance.now() - started;
  t.log(
    `after ${Math.round(elapsed)} ms: ${String(error)}; TLS connections ${server.tlsConnections()}; ` +
      `stats ${JSON.stringify(curl.stats())}`,
  );
  assertCurlError(t, error, 28, 'CURLE_OPERATION_TIMEDOUT');
  t.true(elapsed >= timeoutMs, `ended after ${elapsed.toFixed(0)} ms, before its timeoutMs (${timeoutMs})`);
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});
