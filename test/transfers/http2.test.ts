import test, { type ExecutionContext } from 'ava';
import { forkJoin, lastValueFrom } from 'rxjs';
import { Curl, CurlError } from '../../src/index.js';
import { makePki, startHttp2SecureServer, startHttp2Server } from '../helpers/pki.js';
import { useCurl, useServer } from '../helpers/servers.js';

const pki = makePki();
test.after.always(() => pki.dispose());

/** An HTTP/2-only TLS server that counts sessions (one per connection) and answers slowly enough to overlap. */
async function h2Origin(t: ExecutionContext, answerAfterMs = 0) {
  let sessions = 0;
  let streams = 0;
  const server = await startHttp2SecureServer(pki, (req, res) => {
    streams++;
    setTimeout(() => res.end(`${req.httpVersion} ${req.url}`), answerAfterMs);
  });
  server.server.on('session', () => sessions++);
  t.teardown(() => server.close());
  return { server, sessions: () => sessions, streams: () => streams };
}

test("httpVersion '2' over TLS talks HTTP/2", async (t) => {
  const { server } = await h2Origin(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/v`, httpVersion: '2', tls: { ca: pki.ca } }),
  );
  t.is(response.httpVersion, '2');
  t.is(response.result.httpVersion, '2');
  t.is(response.text(), '2.0 /v');
});

test("'2-prior-knowledge' talks HTTP/2 in clear text", async (t) => {
  let sessions = 0;
  const server = await startHttp2Server((req, res) => res.end(`${req.httpVersion} ${req.method}`));
  server.server.on('session', () => sessions++);
  t.teardown(() => server.close());
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({ url: `${server.url}/pk`, httpVersion: '2-prior-knowledge' }),
  );
  t.is(response.httpVersion, '2');
  t.is(response.text(), '2.0 GET');
  t.is(sessions, 1);
});

test('a clear-text HTTP/1.1 server answers with httpVersion 1.1 by default', async (t) => {
  const server = await useServer(t, (req, res) => res.end(req.httpVersion));
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request(`${server.url}/`));
  t.is(response.httpVersion, '1.1');
  t.is(response.text(), '1.1');
});

test.serial(
  'with multiplex on (the default), 50 concurrent transfers to one origin share one connection',
  async (t) => {
    const origin = await h2Origin(t, 20);
    const curl = useCurl(t);
    const responses = await lastValueFrom(
      forkJoin(
        Array.from({ length: 50 }, (_, i) =>
          curl.request({ url: `${origin.server.url}/m${i}`, tls: { ca: pki.ca } }),
        ),
      ),
    );
    t.deepEqual(
      responses.map((r) => r.text()),
      Array.from({ length: 50 }, (_, i) => `2.0 /m${i}`),
    );
    t.true(responses.every((r) => r.httpVersion === '2'));
    t.is(origin.streams(), 50);
    t.is(origin.sessions(), 1, 'one HTTP/2 session, i.e. one TCP+TLS connection');
    t.is(origin.server.connections(), 1);
  },
);

test.serial('with multiplex: false, 50 concurrent transfers use more than one connection', async (t) => {
  const origin = await h2Origin(t, 20);
  const curl = new Curl({ multiplex: false });
  t.teardown(() => curl.close());
  const responses = await lastValueFrom(
    forkJoin(
      Array.from({ length: 50 }, (_, i) =>
        curl.request({ url: `${origin.server.url}/n${i}`, tls: { ca: pki.ca } }),
      ),
    ),
  );
  t.true(responses.every((r) => r.status === 200 && r.httpVersion === '2'));
  t.log(`multiplex off: ${origin.sessions()} sessions for 50 transfers`);
  t.true(origin.sessions() > 1, `${origin.sessions()} sessions`);
});

test("httpVersion '3' without HTTP/3 support errors with INVALID_INPUT naming httpVersion", async (t) => {
  if (Curl.version.features.http3) {
    t.log(`libcurl ${Curl.version.libcurl} has HTTP/3; this case is for builds without it`);
    t.pass();
    return;
  }
  const curl = useCurl(t);
  const err = await t.throwsAsync(
    lastValueFrom(curl.request({ url: 'https://127.0.0.1:1/', httpVersion: '3' })),
  );
  t.true(err instanceof CurlError);
  t.is((err as CurlError).code, 'INVALID_INPUT');
  t.is((err as CurlError).codeName, 'INVALID_INPUT');
  t.regex((err as CurlError).message, /httpVersion/);
  t.deepEqual(curl.stats().transfers, 0);
});
