import test from 'ava';
import { lastValueFrom, map, mergeMap, range, toArray } from 'rxjs';
import { delay, useCurl, useServer } from '../helpers/servers.js';

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
