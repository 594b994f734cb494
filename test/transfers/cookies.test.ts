import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { Curl } from '../../src/index.js';
import { useCurl, useServer, useTempDir, waitFor } from '../helpers/servers.js';

/**
 * /login sets session=s3cret; /private answers 200 only with that cookie, and says what it got;
 * /hold never answers.
 */
async function serveSession(t: ExecutionContext) {
  const cookiesSeen: Array<string | undefined> = [];
  const server = await useServer(t, (req, res) => {
    if (req.url === '/hold') return;
    if (req.url === '/login') {
      res.writeHead(200, { 'set-cookie': 'session=s3cret; Path=/; HttpOnly' }).end('logged in');
      return;
    }
    cookiesSeen.push(req.headers.cookie);
    if (req.headers.cookie?.split(/;\s*/).includes('session=s3cret')) res.end('private stuff');
    else res.writeHead(401).end('log in first');
  });
  return { server, cookiesSeen };
}

const tempDir = (t: ExecutionContext) => useTempDir(t, 'rxcurl-cookies-');

test('cookies: true keeps the cookie from /login and sends it to /private', async (t) => {
  const { server, cookiesSeen } = await serveSession(t);
  const curl = useCurl(t, { cookies: true });
  const before = await lastValueFrom(curl.request(`${server.url}/private`));
  t.is(before.status, 401);
  const login = await lastValueFrom(curl.request(`${server.url}/login`));
  t.is(login.headers['set-cookie'], 'session=s3cret; Path=/; HttpOnly');
  const after = await lastValueFrom(curl.request(`${server.url}/private`));
  t.is(after.status, 200);
  t.is(after.text(), 'private stuff');
  t.deepEqual(cookiesSeen, [undefined, 'session=s3cret']);
});

test('the cookie engine is shared by the transfers of one Curl, not across Curls', async (t) => {
  const { server, cookiesSeen } = await serveSession(t);
  const first = useCurl(t, { cookies: true });
  const second = useCurl(t, { cookies: true });
  await lastValueFrom(first.request(`${server.url}/login`));
  t.is(first.stats().pooledHandles, 1);
  // The easy handle that logged in is kept busy, so the next transfer of `first` runs on another
  // one: the cookie reaches it through the Curl's shared cookie engine, not through a handle.
  const hold = first.request(`${server.url}/hold`).subscribe({ error: () => {} });
  t.teardown(() => hold.unsubscribe());
  await waitFor(() => server.requests.some((req) => req.url === '/hold'), 'the held request to arrive');
  t.like(first.stats(), { transfers: 1, pooledHandles: 0 });
  const same = await lastValueFrom(first.request(`${server.url}/private`));
  t.is(same.status, 200, 'a later transfer of the same Curl sends the cookie');
  t.is(same.text(), 'private stuff');
  t.is(first.stats().easyHandles, 1, 'the held transfer still has the handle that logged in');
  hold.unsubscribe();
  const elsewhere = await lastValueFrom(second.request(`${server.url}/private`));
  t.is(elsewhere.status, 401, 'another Curl does not');
  t.deepEqual(cookiesSeen, ['session=s3cret', undefined]);
});

test('without cookies (the default) the server sees no cookie', async (t) => {
  const { server, cookiesSeen } = await serveSession(t);
  const curl = useCurl(t);
  const login = await lastValueFrom(curl.request(`${server.url}/login`));
  t.is(login.headers['set-cookie'], 'session=s3cret; Path=/; HttpOnly', 'the server did set one');
  const after = await lastValueFrom(curl.request(`${server.url}/private`));
  t.is(after.status, 401);
  t.deepEqual(cookiesSeen, [undefined]);
});

test('cookies: a file path → after close() the jar file holds the cookie', async (t) => {
  const { server, cookiesSeen } = await serveSession(t);
  const dir = tempDir(t);
  const jar = join(dir, 'jar.txt');
  const curl = new Curl({ cookies: jar });
  try {
    await lastValueFrom(curl.request(`${server.url}/login`));
    const after = await lastValueFrom(curl.request(`${server.url}/private`));
    t.is(after.status, 200);
  } finally {
    await curl.close();
  }
  t.true(existsSync(jar), 'the jar was written');
  const lines = readFileSync(jar, 'utf8')
    .split('\n')
    .filter((line) => line.includes('\t'));
  t.log(lines.join('\n'));
  // Netscape format: domain, subdomains, path, secure, expiry, name, value (HttpOnly: a #HttpOnly_ prefix).
  const cookie = lines.map((line) => line.split('\t')).find((fields) => fields[5] === 'session');
  t.truthy(cookie, 'the session cookie is in the jar');
  t.is(cookie?.[6], 's3cret');
  t.regex(cookie?.[0] ?? '', /127\.0\.0\.1$/);
  t.deepEqual(cookiesSeen, ['session=s3cret']);
});

test('cookies: a file path → cookies in an existing jar are sent from the first request', async (t) => {
  const { server, cookiesSeen } = await serveSession(t);
  const dir = tempDir(t);
  const jar = join(dir, 'jar.txt');
  writeFileSync(
    jar,
    ['# Netscape HTTP Cookie File', '127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\ts3cret', ''].join('\n'),
  );
  const curl = useCurl(t, { cookies: jar });
  const response = await lastValueFrom(curl.request(`${server.url}/private`));
  t.is(response.status, 200);
  t.deepEqual(cookiesSeen, ['session=s3cret']);
});
