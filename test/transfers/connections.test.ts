import http2 from 'node:http2';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom, map, mergeMap, range, toArray } from 'rxjs';
import { delay, listenForTest, useCurl, useServer } from '../helpers/servers.js';

const answer = (i: string) => `answer ${i}`;

test('sequential requests reuse one keep-alive connection', async (t) => {
  const server = await useServer(t, (req, res) => {
    res.end(answer(req.url ?? ''));
  });
  const curl = useCurl(t);
  const ports = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const response = await lastValueFrom(curl.request(`${server.url}/${i}`));
    t.is(response.text(), answer(`/${i}`));
  }
  for (const req of server.requests) ports.add(req.socket.remotePort ?? 0);
  t.is(ports.size, 1, 'one client port: one connection');
});

test('a keep-alive connection the server closed while idle is replaced transparently', async (t) => {
  const server = await useServer(t, (req, res) => {
    res.end(answer(req.url ?? ''));
  });
  const curl = useCurl(t);
  t.is((await lastValueFrom(curl.request(`${server.url}/a`))).text(), answer('/a'));
  for (const socket of server.sockets) socket.destroy(); // the server drops the idle connection
  await delay(30);
  t.is((await lastValueFrom(curl.request(`${server.url}/b`))).text(), answer('/b'));
  t.true(curl.stats().sockets <= 1);
});

test('300 transfers on connections the server closes after each answer (fd numbers come back)', async (t) => {
  const server = await useServer(t, (req, res) => {
    res.setHeader('connection', 'close');
    res.end(answer(req.url ?? ''));
  });
  const curl = useCurl(t);
  const got = await lastValueFrom(
    range(300).pipe(
      mergeMap((i) => curl.request(`${server.url}/${i}`).pipe(map((r) => ({ i, text: r.text() }))), 30),
      toArray(),
    ),
  );
  t.is(got.length, 300);
  t.true(got.every(({ i, text }) => text === answer(`/${i}`)));
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
  await delay(20);
  t.is(curl.stats().sockets, 0, 'no socket is still watched');
});

async function startH2c(t: ExecutionContext) {
  const server = http2.createServer();
  let sessions = 0;
  server.on('session', () => sessions++);
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    setTimeout(() => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-path': path });
      stream.end(answer(path));
    }, 5);
  });
  const port = await listenForTest(t, server);
  return { url: `http://127.0.0.1:${port}`, sessions: () => sessions };
}

// Only one transfer: libcurl 7.88.1 fails a second transfer reusing an h2c prior-knowledge connection
// to node:http2 with CURLE_HTTP2 (the curl 7.88.1 CLI does the same). Multiplexing is tested over TLS.
test('HTTP/2 with prior knowledge: the response says 2', async (t) => {
  const server = await startH2c(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/one`, httpVersion: '2-prior-knowledge' }),
  );
  t.is(response.text(), answer('/one'));
  t.is(response.httpVersion, '2');
  t.is(response.result.httpVersion, '2');
  t.is(response.headers['x-path'], '/one');
});
