import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { concatMap, from, lastValueFrom, Observable, of, delay as rxDelay } from 'rxjs';
import {
  CurlError,
  type CurlRequest,
  type CurlResponse,
  ensureOk,
  type FormPart,
  HttpError,
  isTransient,
  retryTransient,
} from '../../src/index.js';
import { generatedBody, KiB, MiB } from '../helpers/bulk.js';
import {
  pieces,
  randomPayload,
  readBody,
  sha256,
  useCurl,
  useServer,
  useTempDir,
  waitFor,
} from '../helpers/servers.js';

/** A part as the server's multipart parser (undici's, behind Request#formData) saw it. */
type Received =
  | { name: string; value: string }
  | { name: string; filename: string; type: string; size: number; sha256: string };

interface Echo {
  method: string;
  contentType: string;
  contentLength: string | null;
  chunked: boolean;
  parts: Received[];
}

/** Parses every request body with Node's own multipart parser and answers with what it found. */
async function serveForms(t: ExecutionContext) {
  const bodies: string[] = [];
  const server = await useServer(t, async (req, res) => {
    // A body the client gave up on (a test of failures) is no answer's business.
    const raw = await readBody(req).catch(() => undefined);
    if (!raw) return;
    bodies.push(sha256(raw));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(await parse(req, raw)));
  });
  return { ...server, bodies };
}

async function parse(req: IncomingMessage, raw: Buffer): Promise<Echo> {
  const request = new Request('http://127.0.0.1/', {
    method: 'POST',
    headers: { 'content-type': req.headers['content-type'] ?? '' },
    body: raw,
  });
  const parts: Received[] = [];
  const multipart = req.headers['content-type']?.startsWith('multipart/form-data');
  for (const [name, entry] of multipart ? await request.formData() : []) {
    if (typeof entry === 'string') parts.push({ name, value: entry });
    else {
      const bytes = new Uint8Array(await entry.arrayBuffer());
      parts.push({ name, filename: entry.name, type: entry.type, size: bytes.length, sha256: sha256(bytes) });
    }
  }
  return {
    method: req.method ?? '',
    contentType: req.headers['content-type'] ?? '',
    contentLength: req.headers['content-length'] ?? null,
    chunked: req.headers['transfer-encoding'] === 'chunked',
    parts,
  };
}

/** What the parser must see for a file part with these bytes. */
function file(name: string, filename: string, type: string, bytes: Uint8Array | string): Received {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return { name, filename, type, size: data.length, sha256: sha256(data) };
}

/** A Readable that hands out `chunks` one every few milliseconds: libcurl waits for it, paused. */
function slowReadable(chunks: Buffer[]): Readable {
  let next = 0;
  return new Readable({
    read() {
      setTimeout(() => this.push(next < chunks.length ? chunks[next++] : null), 3);
    },
  });
}

async function post(t: ExecutionContext, form: CurlRequest['form'], extra: Partial<CurlRequest> = {}) {
  const server = await serveForms(t);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${server.url}/form`, form, ...extra }));
  t.is(response.status, 200);
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
  return response.json<Echo>();
}

test('text fields, a file from a path, bytes, a Readable and an Observable arrive byte for byte', async (t) => {
  const dir = useTempDir(t);
  const path = join(dir, 'report.csv');
  const csv = randomPayload(200 * KiB);
  writeFileSync(path, csv);
  const bytes = randomPayload(70 * KiB + 3);
  const readable = randomPayload(MiB + 11);
  const observable = randomPayload(600 * KiB + 1);
  const form: FormPart[] = [
    { name: 'title', value: 'héllo, wörld ✓' },
    { name: 'empty', value: '' },
    { name: 'lines', value: 'one\r\ntwo\nthree\r\n--not-a-boundary' },
    { name: 'report', file: path },
    { name: 'renamed', file: path, filename: 'other name.csv', contentType: 'text/csv' },
    { name: 'bytes', data: bytes, filename: 'bytes.bin', contentType: 'application/x-bytes' },
    {
      name: 'readable',
      data: Readable.from(pieces(readable)),
      filename: 'r.bin',
      contentType: 'application/x-r',
    },
    {
      name: 'observable',
      data: from(pieces(observable)).pipe(concatMap((c, i) => (i % 3 ? of(c) : of(c).pipe(rxDelay(1))))),
      filename: 'o.bin',
      contentType: 'application/x-o',
    },
  ];
  const echo = await post(t, form);
  t.is(echo.method, 'POST', 'a form is POSTed by default');
  t.regex(echo.contentType, /^multipart\/form-data; boundary=/);
  t.true(echo.chunked, 'streamed parts of unknown size make the body chunked');
  t.deepEqual(echo.parts, [
    { name: 'title', value: 'héllo, wörld ✓' },
    { name: 'empty', value: '' },
    { name: 'lines', value: 'one\r\ntwo\nthree\r\n--not-a-boundary' },
    // libcurl reads the file and names it after the path's base name.
    file('report', 'report.csv', 'application/octet-stream', csv),
    file('renamed', 'other name.csv', 'text/csv', csv),
    file('bytes', 'bytes.bin', 'application/x-bytes', bytes),
    file('readable', 'r.bin', 'application/x-r', readable),
    file('observable', 'o.bin', 'application/x-o', observable),
  ]);
});

test('streamed parts with a size make the body length known: no chunked encoding', async (t) => {
  const readable = randomPayload(300 * KiB + 5);
  const observable = randomPayload(5);
  const echo = await post(t, [
    { name: 'r', data: slowReadable(pieces(readable)), size: readable.length, filename: 'r.bin' },
    { name: 'o', data: of(observable), size: 5, filename: 'o.bin', contentType: 'application/x-o' },
  ]);
  t.false(echo.chunked);
  t.truthy(echo.contentLength);
  t.deepEqual(echo.parts, [
    file('r', 'r.bin', 'application/octet-stream', readable),
    file('o', 'o.bin', 'application/x-o', observable),
  ]);
});

test('slow sources (a chunk every few ms) pause the upload and resume it, exactly', async (t) => {
  const a = Array.from({ length: 30 }, (_, i) => randomPayload(1 + ((i * 7919) % (20 * KiB))));
  const b = Array.from({ length: 30 }, (_, i) => randomPayload(1 + ((i * 104_729) % (8 * KiB))));
  const observable = new Observable<Uint8Array>((subscriber) => {
    let i = 0;
    const timer = setInterval(() => (i < b.length ? subscriber.next(b[i++]) : subscriber.complete()), 3);
    return () => clearInterval(timer);
  });
  const echo = await post(t, [
    { name: 'first', value: '1' },
    { name: 'a', data: slowReadable(a), filename: 'a.bin' },
    { name: 'middle', value: '2' },
    { name: 'b', data: observable, filename: 'b.bin', contentType: 'application/x-b' },
    { name: 'last', value: '3' },
  ]);
  t.deepEqual(echo.parts, [
    { name: 'first', value: '1' },
    file('a', 'a.bin', 'application/octet-stream', Buffer.concat(a)),
    { name: 'middle', value: '2' },
    file('b', 'b.bin', 'application/x-b', Buffer.concat(b)),
    { name: 'last', value: '3' },
  ]);
});

test('a web FormData: strings are values, Files and Blobs are data with their name and type', async (t) => {
  const big = randomPayload(3 * MiB + 1);
  const form = new FormData();
  form.append('text', 'plain ✓');
  form.append('blob', new Blob([big], { type: 'application/x-big' }));
  form.append('file', new File(['file text'], 'notes.txt', { type: 'text/plain' }));
  form.append('untyped', new File([new Uint8Array([0, 1, 2])], 'raw'));
  form.append('text', 'repeated');
  const echo = await post(t, form, { method: 'PUT' });
  t.is(echo.method, 'PUT');
  t.false(echo.chunked, 'a Blob has a size');
  t.deepEqual(echo.parts, [
    { name: 'text', value: 'plain ✓' },
    file('blob', 'blob', 'application/x-big', big),
    file('file', 'notes.txt', 'text/plain', 'file text'),
    file('untyped', 'raw', 'application/octet-stream', new Uint8Array([0, 1, 2])),
    { name: 'text', value: 'repeated' },
  ]);
});

test('one Curl runs forms, plain requests and forms again on its pooled easy handles', async (t) => {
  const server = await serveForms(t);
  const curl = useCurl(t);
  const url = `${server.url}/form`;
  for (let round = 0; round < 3; round++) {
    const payload = randomPayload(10 * KiB + round);
    const form: FormPart[] = [
      { name: 'round', value: String(round) },
      { name: 'data', data: Readable.from([payload]), filename: 'd.bin' },
    ];
    const echo = (await lastValueFrom(curl.request({ url, form }))).json<Echo>();
    t.deepEqual(echo.parts, [
      { name: 'round', value: String(round) },
      file('data', 'd.bin', 'application/octet-stream', payload),
    ]);
    // The same handle without a form: no multipart body is left on it.
    const plain = await lastValueFrom(
      curl.request({ url: `${server.url}/plain`, method: 'POST', body: 'x=1' }),
    );
    t.is(plain.status, 200);
    t.is(server.requests.at(-1)?.headers['content-type'], 'application/x-www-form-urlencoded');
    t.is(server.bodies.at(-1), sha256('x=1'));
    await lastValueFrom(curl.request(`${server.url}/get`));
    t.is(server.requests.at(-1)?.method, 'GET');
    t.is(server.bodies.at(-1), sha256(''));
  }
  t.like(curl.stats(), { transfers: 0, easyHandles: 0, pooledHandles: 1 });
});

test('a streamed part of the wrong size fails the transfer instead of leaving the server waiting', async (t) => {
  const server = await serveForms(t);
  const curl = useCurl(t);
  for (const [given, size] of [
    [10, 20],
    [30, 20],
  ]) {
    const err = await t.throwsAsync(
      lastValueFrom(
        curl.request({
          url: `${server.url}/form`,
          form: [{ name: 'p', data: Readable.from([randomPayload(given)]), size, filename: 'p' }],
        }),
      ),
      { instanceOf: CurlError },
    );
    t.regex(err!.message, /form\[0\]\.data gave (only 10|more) bytes, not its size 20/);
    t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
  }
  const echo = (
    await lastValueFrom(curl.request({ url: `${server.url}/form`, form: [{ name: 'ok', value: 'y' }] }))
  ).json<Echo>();
  t.deepEqual(echo.parts, [{ name: 'ok', value: 'y' }]);
});

test('a part source that errors errors the transfer with its error; the Curl stays usable', async (t) => {
  const server = await serveForms(t);
  const curl = useCurl(t);
  const boom = new Error('disk on fire');
  const failing = new Readable({
    read() {
      setTimeout(() => this.destroy(boom), 5);
    },
  });
  const err = await t.throwsAsync(
    lastValueFrom(
      curl.request({ url: `${server.url}/form`, form: [{ name: 'f', data: failing, filename: 'f' }] }),
    ),
  );
  t.is(err, boom);
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
  const echo = (
    await lastValueFrom(curl.request({ url: `${server.url}/form`, form: [{ name: 'ok', value: 'y' }] }))
  ).json<Echo>();
  t.deepEqual(echo.parts, [{ name: 'ok', value: 'y' }]);
});

test('unsubscribing mid-upload stops every part source and frees the transfer', async (t) => {
  let received = 0;
  const server = await useServer(t, (req) => {
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    req.on('error', () => {});
  });
  const curl = useCurl(t);
  const body = generatedBody(Number.MAX_SAFE_INTEGER);
  let unsubscribed = false;
  const endless = new Observable<Uint8Array>((subscriber) => {
    const timer = setInterval(() => subscriber.next(randomPayload(KiB)), 2);
    return () => {
      unsubscribed = true;
      clearInterval(timer);
    };
  });
  const subscription = curl
    .request({
      url: `${server.url}/form`,
      form: [
        { name: 'a', data: body.readable, filename: 'a' },
        { name: 'b', data: endless, filename: 'b' },
      ],
    })
    .subscribe();
  await waitFor(() => received > 2 * MiB, 'the server to receive 2 MiB');
  subscription.unsubscribe();
  t.true(body.readable.destroyed, 'the Readable part was destroyed');
  t.true(unsubscribed || body.produced() > 0, 'the Observable part, if reached, was unsubscribed');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
  // The pooled handle that held the freed form runs a form again.
  await server.close();
  const again = await serveForms(t);
  const echo = (
    await lastValueFrom(curl.request({ url: `${again.url}/form`, form: [{ name: 'ok', value: 'y' }] }))
  ).json<Echo>();
  t.deepEqual(echo.parts, [{ name: 'ok', value: 'y' }]);
});

test('retryTransient: a form with a Readable part is sent once; with an Observable part it is sent again whole', async (t) => {
  const bodies: string[] = [];
  const server = await useServer(t, async (req, res) => {
    const raw = await readBody(req);
    bodies.push(sha256(raw));
    res.statusCode = bodies.length <= 2 ? 503 : 200; // the Readable form, then the Observable one once
    res.setHeader('retry-after', '0');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(await parse(req, raw)));
  });
  const curl = useCurl(t);
  const payload = randomPayload(100 * KiB);
  const retry = () => retryTransient<CurlResponse>({ count: 3, baseDelayMs: 1, maxDelayMs: 5 });
  const once = curl
    .request({ url: `${server.url}/`, form: [{ name: 'r', data: Readable.from([payload]), filename: 'r' }] })
    .pipe(ensureOk(), retry());
  const err = await t.throwsAsync(lastValueFrom(once), { instanceOf: HttpError });
  t.false(isTransient(err), 'a spent Readable part: retrying cannot help');
  t.is(bodies.length, 1);

  const again = curl
    .request({ url: `${server.url}/`, form: [{ name: 'o', data: from(pieces(payload)), filename: 'o' }] })
    .pipe(ensureOk(), retry());
  const echo = (await lastValueFrom(again)).json<Echo>();
  t.is(bodies.length, 3, 'a 503, then the whole form again');
  t.deepEqual(echo.parts, [file('o', 'o', 'application/octet-stream', payload)]);
});

test('a 307 redirect cannot replay a streamed part: libcurl fails to rewind it (code 65)', async (t) => {
  const server = await useServer(t, async (req, res) => {
    await readBody(req);
    if (req.url === '/from') {
      res.writeHead(307, { location: '/to' });
      res.end();
    } else res.end('arrived');
  });
  const curl = useCurl(t);
  const err = await t.throwsAsync(
    lastValueFrom(
      curl.request({
        url: `${server.url}/from`,
        form: [{ name: 'r', data: Readable.from([randomPayload(KiB)]), filename: 'r' }],
      }),
    ),
    { instanceOf: CurlError },
  );
  t.is(err!.code, 65);
  // Values, files and bytes are replayed by libcurl itself.
  const res = await lastValueFrom(
    curl.request({
      url: `${server.url}/from`,
      form: [
        { name: 'v', value: 'x' },
        { name: 'b', data: new Uint8Array(3), filename: 'b' },
      ],
    }),
  );
  t.is(res.text(), 'arrived');
  t.is(res.result.redirects, 1);
});

const invalid: Array<[string, unknown, RegExp]> = [
  ['not a form', 'a=b', /form must be a FormData or an array of parts/],
  ['a part that is not an object', [null], /form\[0\] must be \{ name, value \| file \| data \}/],
  ['no name', [{ value: 'x' }], /form\[0\]\.name is required/],
  [
    'an empty name',
    [
      { name: 'a', value: 'x' },
      { name: '', value: 'x' },
    ],
    /form\[1\]\.name is required/,
  ],
  [
    'a name with CR LF',
    [{ name: 'a\r\nX-Evil: 1', value: 'x' }],
    /form\[0\]\.name must not contain CR, LF or NUL/,
  ],
  ['a name with NUL', [{ name: 'a\0', value: 'x' }], /form\[0\]\.name must not contain CR, LF or NUL/],
  [
    'two of value, file, data',
    [{ name: 'a', value: 'x', file: '/etc/hostname' }],
    /form\[0\] must have exactly one of value, file and data/,
  ],
  ['none of value, file, data', [{ name: 'a' }], /form\[0\] must have exactly one of value, file and data/],
  ['a value that is not a string', [{ name: 'a', value: 1 }], /form\[0\]\.value must be a string, got 1/],
  [
    'data of the wrong type',
    [{ name: 'a', data: 'text' }],
    /form\[0\]\.data must be a Uint8Array, Readable or Observable/,
  ],
  [
    'a filename on a value',
    [{ name: 'a', value: 'x', filename: 'f' }],
    /form\[0\]\.filename is not a field of a value part/,
  ],
  [
    'an unknown field',
    [{ name: 'a', data: new Uint8Array(1), colour: 'red' }],
    /form\[0\]\.colour is not a field of a data part/,
  ],
  [
    'a filename with LF',
    [{ name: 'a', data: new Uint8Array(1), filename: 'a\nb' }],
    /form\[0\]\.filename must not contain CR, LF or NUL/,
  ],
  [
    'a content type with CR',
    [{ name: 'a', file: '/etc/hostname', contentType: 'text/plain\r' }],
    /form\[0\]\.contentType must not contain CR, LF or NUL/,
  ],
  [
    'a negative size',
    [{ name: 'a', data: of(new Uint8Array(1)), size: -1 }],
    /form\[0\]\.size must be a finite number >= 0/,
  ],
  [
    'a size on bytes',
    [{ name: 'a', data: new Uint8Array(1), size: 1 }],
    /form\[0\]\.size is for streamed data only/,
  ],
  ['an empty file path', [{ name: 'a', file: '' }], /form\[0\]\.file must be a path/],
];

for (const [what, form, message] of invalid) {
  test(`INVALID_INPUT naming the part: ${what}`, async (t) => {
    const curl = useCurl(t);
    const err = await t.throwsAsync(
      lastValueFrom(curl.request({ url: 'http://127.0.0.1:1/', form: form as FormPart[] })),
      { instanceOf: CurlError },
    );
    t.is(err!.code, 'INVALID_INPUT');
    t.regex(err!.message, message);
  });
}

test('INVALID_INPUT: a form with body or json, a consumed Readable, a FormData name with LF, a missing file', async (t) => {
  const dir = useTempDir(t);
  const curl = useCurl(t);
  const url = 'http://127.0.0.1:1/';
  const consumed = Readable.from([]);
  consumed.resume();
  await new Promise((resolve) => consumed.once('end', resolve));
  const badName = new FormData();
  badName.append('ok', 'x');
  badName.append('bad\nname', 'x');
  const cases: Array<[CurlRequest, RegExp]> = [
    [{ url, form: [], body: 'x' }, /form and body cannot both be given/],
    [{ url, form: [], json: {} }, /form and json cannot both be given/],
    [
      { url, form: [{ name: 'r', data: consumed }] },
      /form\[0\]\.data is a Readable that was already consumed/,
    ],
    [{ url, form: badName }, /form\[1\]\.name must not contain CR, LF or NUL/],
    // Checked by libcurl as the form is built (curl_mime_filedata), before anything is sent.
    [
      {
        url,
        form: [
          { name: 'v', value: 'x' },
          { name: 'f', file: join(dir, 'missing.txt') },
        ],
      },
      /form\[1\]\.file cannot be read: ".*missing\.txt"/,
    ],
  ];
  for (const [request, message] of cases) {
    const err = await t.throwsAsync(lastValueFrom(curl.request(request)), { instanceOf: CurlError });
    t.is(err!.code, 'INVALID_INPUT');
    t.regex(err!.message, message);
  }
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

/**
 * The body of a one-part form, checked as it streams: the part's content is hashed and counted
 * between its header block and the closing boundary, without ever holding it.
 */
function streamOnePart(req: IncomingMessage): Promise<{ name: string; length: number; sha256: string }> {
  const boundary = /boundary=(.+)$/.exec(req.headers['content-type'] ?? '')?.[1] ?? '';
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`);
  const hash = createHash('sha256');
  let head = Buffer.alloc(0);
  let headers: string | undefined;
  let tail = Buffer.alloc(0); // the last bytes seen, which may be the closing boundary
  let length = 0;
  const take = (bytes: Buffer) => {
    const all = tail.length === 0 ? bytes : Buffer.concat([tail, bytes]);
    const keep = Math.min(all.length, closing.length);
    hash.update(all.subarray(0, all.length - keep));
    length += all.length - keep;
    tail = Buffer.from(all.subarray(all.length - keep));
  };
  return new Promise((resolve, reject) => {
    req.on('data', (chunk: Buffer) => {
      if (headers !== undefined) return take(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headers = head.subarray(0, end).toString('latin1');
      take(head.subarray(end + 4));
    });
    req.on('end', () => {
      if (!tail.equals(closing)) return reject(new Error('the body does not end with the closing boundary'));
      resolve({ name: /name="([^"]*)"/.exec(headers ?? '')?.[1] ?? '', length, sha256: hash.digest('hex') });
    });
    req.on('error', reject);
  });
}

test.serial('a 100 MiB streamed part keeps the client’s memory flat', async (t) => {
  t.timeout(180_000);
  const size = 100 * MiB;
  const server = await useServer(t, async (req, res) => {
    res.end(JSON.stringify(await streamOnePart(req)));
  });
  const fixture = fileURLToPath(new URL('fixtures/streamedPartRss.mjs', import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [fixture, `${server.url}/big`, String(size)],
    {
      timeout: 170_000,
    },
  );
  const { before, after, status, answer } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
  const block = Buffer.alloc(64 * KiB, 'rxcurl form part ');
  const expected = createHash('sha256');
  for (let i = 0; i < size / block.length; i++) expected.update(block);
  const growth = after - before;
  t.log(
    `peak RSS ${(before / MiB).toFixed(1)} MiB before, ${(after / MiB).toFixed(1)} MiB after: +${(growth / MiB).toFixed(1)} MiB for a ${size / MiB} MiB part`,
  );
  t.is(status, 200);
  t.deepEqual(answer, { name: 'big', length: size, sha256: expected.digest('hex') });
  t.true(growth < 40 * MiB, `peak RSS grew by ${growth} bytes`);
});
