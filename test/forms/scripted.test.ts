import { Readable } from 'node:stream';
import test from 'ava';
import { of } from 'rxjs';
import { CurlError } from '../../src/index.js';
import { createTestCurl } from '../../src/testing/index.js';
import { marbles } from '../helpers/marbles.js';

test('the scripted driver records a form’s parts in requests, and routes see them', (t) => {
  const scheduler = marbles(t);
  const bytes = new Uint8Array([1, 2, 3]);
  const readable = Readable.from([]);
  const observable = of(new Uint8Array(4));
  const blob = new Blob(['blob'], { type: 'text/x-blob' });
  const web = new FormData();
  web.append('w', 'web');
  web.append('b', blob);
  let status = 0;
  let webStatus = 0;
  scheduler.run(({ cold, flush }) => {
    const curl = createTestCurl({ scheduler });
    curl.route((req) => req.form?.[0]?.value === 'holiday', cold('-r', { r: { status: 201 } }));
    curl.route((req) => req.form?.[0]?.value === 'web', cold('-r', { r: { status: 202 } }));
    curl
      .request({
        url: 'http://api.test/upload',
        form: [
          { name: 'title', value: 'holiday' },
          { name: 'photo', file: '/tmp/beach.jpg', contentType: 'image/jpeg' },
          { name: 'bytes', data: bytes, filename: 'b.bin' },
          { name: 'stream', data: readable, size: 0 },
          { name: 'obs', data: observable, filename: 'o', contentType: 'application/x-o', size: 4 },
        ],
      })
      .subscribe((res) => (status = res.status));
    curl
      .request({ url: 'http://api.test/upload', method: 'PUT', form: web })
      .subscribe((res) => (webStatus = res.status));
    flush();
    t.is(status, 201);
    t.is(webStatus, 202);
    const [sent, sentWeb] = curl.requests;
    t.is(sent.method, 'POST', 'a form is POSTed by default');
    t.is(sent.body, undefined);
    t.deepEqual(sent.form, [
      { name: 'title', value: 'holiday' },
      { name: 'photo', file: '/tmp/beach.jpg', contentType: 'image/jpeg' },
      { name: 'bytes', data: bytes, filename: 'b.bin', contentType: 'application/octet-stream' },
      { name: 'stream', data: readable, size: 0 },
      { name: 'obs', data: observable, filename: 'o', contentType: 'application/x-o', size: 4 },
    ]);
    t.is(sentWeb.method, 'PUT');
    t.deepEqual(sentWeb.form?.[0], { name: 'w', value: 'web' });
    t.like(sentWeb.form?.[1], { name: 'b', filename: 'blob', contentType: 'text/x-blob', size: 4 });
    t.true(sentWeb.form?.[1]?.data instanceof Blob);
  });
});

test('a bad form is INVALID_INPUT naming the part under the scripted driver too', (t) => {
  const scheduler = marbles(t);
  let error: CurlError | undefined;
  scheduler.run(({ flush }) => {
    const curl = createTestCurl({ scheduler });
    curl
      .request({ url: 'http://api.test/', form: [{ name: 'a\nb', value: 'x' }] })
      .subscribe({ error: (e) => (error = e) });
    flush();
  });
  t.true(error instanceof CurlError);
  t.is(error?.code, 'INVALID_INPUT');
  t.regex(error?.message ?? '', /form\[0\]\.name must not contain CR, LF or NUL/);
});
