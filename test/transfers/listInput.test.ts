// Validation of list options and the typed fields resolve, connectTo, unixSocket, pinnedPublicKey,
// maxRecvBytesPerSecond and maxSendBytesPerSecond: each wrong shape is INVALID_INPUT naming the field
// (the item, for a list), and nothing is sent.
import test from 'ava';
import { lastValueFrom, of } from 'rxjs';
import { CurlError, type CurlRequest } from '../../src/index.js';
import { createTestCurl } from '../../src/testing/index.js';
import { marbles } from '../helpers/marbles.js';
import { useCurl, useServer } from '../helpers/servers.js';

/** What JavaScript callers can pass, whatever the types say. */
type Loose = Record<string, unknown>;

/** Field name expected in the message → bad values of the request fields that go with it. */
const badInputs: Array<[field: string, fields: Loose[]]> = [
  [
    'resolve',
    [{ resolve: 'a.test:80:127.0.0.1' }, { resolve: [{ host: 'a.test' }].values() }, { resolve: null }],
  ],
  [
    'resolve[0]',
    [
      { resolve: [42] },
      { resolve: ['a.test:80'] },
      { resolve: ['a.test:127.0.0.1'] },
      { resolve: ['a.test:80:'] },
      { resolve: ['a.test:99999:127.0.0.1'] },
      { resolve: ['a.test:80:not-an-ip'] },
      { resolve: ['-a.test:80:127.0.0.1'] },
      { resolve: ['a.test:80:127.0.0.1\r\nX: 1'] },
      { resolve: ['a.test:80:127.0.0.1\0'] },
    ],
  ],
  [
    'resolve[1]',
    [{ resolve: ['a.test:80:127.0.0.1', 'b.test:80:1.2.3'] }, { resolve: ['a.test:80:::1', undefined] }],
  ],
  ['connectTo', [{ connectTo: 'a.test:80:b.test:81' }, { connectTo: 7 }]],
  [
    'connectTo[0]',
    [
      { connectTo: ['a.test:80:b.test'] },
      { connectTo: ['a.test:80:b.test:81:82'] },
      { connectTo: ['a.test:http:b.test:81'] },
      { connectTo: ['a.test:80:b.test:65536'] },
      { connectTo: ['a.test:80:b.test:81\n'] },
      { connectTo: [false] },
    ],
  ],
  [
    'unixSocket',
    [
      { unixSocket: '' },
      { unixSocket: 5 },
      { unixSocket: ['/tmp/s'] },
      { unixSocket: '/tmp/s\0' },
      { unixSocket: `/tmp/${'s'.repeat(120)}` },
    ],
  ],
  [
    'pinnedPublicKey',
    [
      { pinnedPublicKey: '' },
      { pinnedPublicKey: 'sha256//short' },
      { pinnedPublicKey: `sha256//${'A'.repeat(43)}=;sha1//abc` },
      { pinnedPublicKey: `sha256//${'A'.repeat(43)}=\r\n` },
      { pinnedPublicKey: ['sha256//x'] },
    ],
  ],
  [
    'maxRecvBytesPerSecond',
    [
      { maxRecvBytesPerSecond: -1 },
      { maxRecvBytesPerSecond: 1.5 },
      { maxRecvBytesPerSecond: '1000' },
      { maxRecvBytesPerSecond: Number.NaN },
      { maxRecvBytesPerSecond: Number.POSITIVE_INFINITY },
    ],
  ],
  [
    'maxSendBytesPerSecond',
    [{ maxSendBytesPerSecond: -1 }, { maxSendBytesPerSecond: 0.5 }, { maxSendBytesPerSecond: true }],
  ],
  [
    'curlOptions.RESOLVE',
    [{ curlOptions: { RESOLVE: 'a.test:80:127.0.0.1' } }, { curlOptions: { RESOLVE: 1 } }],
  ],
  ['curlOptions.RESOLVE[1]', [{ curlOptions: { RESOLVE: ['a.test:80:127.0.0.1', 3] } }]],
  [
    'curlOptions.QUOTE[0]',
    [{ curlOptions: { QUOTE: ['PWD\r\nDELE x'] } }, { curlOptions: { QUOTE: ['a\0'] } }],
  ],
  ['curlOptions.URL', [{ curlOptions: { URL: ['http://127.0.0.1/'] } }]],
  ['curlOptions.TIMEOUT_MS', [{ curlOptions: { TIMEOUT_MS: [] } }]],
];

const asPattern = (text: string) => text.replace(/[.[\]]/g, '\\$&');

for (const [field, variants] of badInputs) {
  test(`INVALID_INPUT naming ${field}`, async (t) => {
    const server = await useServer(t, (_req, res) => res.end('should not be reached'));
    const curl = useCurl(t);
    for (const fields of variants) {
      const request = { url: `${server.url}/`, ...fields } as CurlRequest;
      const error = await t.throwsAsync(
        lastValueFrom(curl.request(request)),
        { instanceOf: CurlError },
        JSON.stringify(fields),
      );
      t.true(error instanceof CurlError);
      t.is((error as CurlError).code, 'INVALID_INPUT');
      // The field and nothing longer: resolve[1] is not resolve[10], curlOptions.URL not URLs.
      t.regex(
        error?.message ?? '',
        new RegExp(`invalid request: ${asPattern(field)} `),
        JSON.stringify(fields),
      );
    }
    t.is(server.requests.length, 0, 'nothing reached the server');
    t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
  });
}

test('well-formed entries are accepted, including by the scripted driver of rxcurl/testing', (t) => {
  const scheduler = marbles(t);
  const good: CurlRequest = {
    url: 'http://a.test/',
    resolve: ['a.test:80:127.0.0.1', '+b.test:443:[::1],127.0.0.1', '-c.test:80', 'd.test:80:::1'],
    connectTo: ['a.test:80:127.0.0.1:8080', '::b.test:', '[::1]:80:[fe80::1%25eth0]:81'],
    unixSocket: '/run/app.sock',
    pinnedPublicKey: `sha256//${'A'.repeat(43)}=;sha256//${'b'.repeat(43)}=`,
    maxRecvBytesPerSecond: 1024,
    maxSendBytesPerSecond: 0,
    curlOptions: { QUOTE: ['PWD'], MAIL_RCPT: [] },
  };
  let status: number | undefined;
  let error: unknown;
  scheduler.run(() => {
    const curl = createTestCurl({ scheduler });
    curl.route('GET http://a.test/', of({ status: 204 }));
    curl
      .request(good)
      .subscribe({ next: (response) => (status = response.status), error: (e) => (error = e) });
  });
  t.is(error, undefined);
  t.is(status, 204);
});
