// FTP against vsftpd started by each test (test/helpers/ftpServer.ts): download, upload, listing,
// resume and errors, opted in through `protocols`.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import test from 'ava';
import { lastValueFrom, toArray } from 'rxjs';
import { partialPath } from '../../src/api/downloadTo.js';
import { CurlError, type DownloadEvent } from '../../src/index.js';
import { useFtpServer, VSFTPD } from '../helpers/ftpServer.js';
import { randomPayload, useCurl, useTempDir } from '../helpers/servers.js';

const ftpTest = VSFTPD ? test : test.skip;
const skipped = VSFTPD ? '' : ' (skipped: vsftpd not found; Debian package vsftpd)';
const PAYLOAD = randomPayload(3 * 1024 * 1024 + 17);
const FTP = ['ftp'];

ftpTest(`a file downloads intact; the result carries FTP's last reply${skipped}`, async (t) => {
  const server = await useFtpServer(t);
  writeFileSync(join(server.dir, 'data.bin'), PAYLOAD);
  const curl = useCurl(t);
  const response = await lastValueFrom(curl.request({ url: `${server.url}data.bin`, protocols: FTP }));
  t.true(response.body.equals(PAYLOAD));
  const { result } = response;
  t.true(result.ok);
  t.is(result.code, 0);
  t.is(result.status, 226, 'Transfer complete');
  t.is(result.httpVersion, '');
  t.is(result.downloadedBytes, PAYLOAD.length);
  t.true(server.commands().includes('RETR data.bin'));
});

ftpTest(`HTTP-only fields do not get in the way of an FTP transfer${skipped}`, async (t) => {
  const server = await useFtpServer(t);
  writeFileSync(join(server.dir, 'a.txt'), 'over ftp');
  const curl = useCurl(t);
  const response = await lastValueFrom(
    curl.request({
      url: `${server.url}a.txt`,
      protocols: FTP,
      followRedirects: true,
      maxRedirects: 3,
      decompress: true,
      headers: { 'x-ignored': 'yes' },
      userAgent: 'test',
      httpVersion: '1.1',
    }),
  );
  t.is(response.text(), 'over ftp');
});

ftpTest(`PUT uploads bytes and streams; the files on the server are what was sent${skipped}`, async (t) => {
  const server = await useFtpServer(t);
  const curl = useCurl(t);
  const bytes = await lastValueFrom(
    curl.request({ url: `${server.url}bytes.bin`, method: 'PUT', body: PAYLOAD, protocols: FTP }),
  );
  t.true(bytes.result.ok);
  t.is(bytes.result.method, 'PUT');
  t.is(bytes.result.uploadedBytes, PAYLOAD.length);
  t.true(readFileSync(join(server.dir, 'bytes.bin')).equals(PAYLOAD));

  const chunks = [PAYLOAD.subarray(0, 1000), PAYLOAD.subarray(1000, 700_000), PAYLOAD.subarray(700_000)];
  await lastValueFrom(
    curl.request({
      url: `${server.url}stream.bin`,
      method: 'PUT',
      body: Readable.from(chunks),
      protocols: FTP,
    }),
  );
  t.true(readFileSync(join(server.dir, 'stream.bin')).equals(PAYLOAD));
  t.true(server.commands().includes('STOR stream.bin'));
});

ftpTest(
  `a body without a method is an upload too; a body with another method is refused${skipped}`,
  async (t) => {
    const server = await useFtpServer(t);
    const curl = useCurl(t);
    await lastValueFrom(curl.request({ url: `${server.url}text.txt`, body: 'text', protocols: FTP }));
    t.is(readFileSync(join(server.dir, 'text.txt'), 'utf8'), 'text');
    for (const [method, field] of [
      ['GET', 'body'],
      ['POST', 'method'],
    ] as const) {
      const error = await t.throwsAsync(
        lastValueFrom(curl.request({ url: `${server.url}x`, method, body: 'x', protocols: FTP })),
        { instanceOf: CurlError },
      );
      t.is(error.code, 'INVALID_INPUT');
      t.true(error.message.includes(field), error.message);
    }
    t.false(existsSync(join(server.dir, 'x')));
  },
);

ftpTest(`a URL ending in / lists the directory${skipped}`, async (t) => {
  const server = await useFtpServer(t);
  writeFileSync(join(server.dir, 'first.txt'), '1');
  writeFileSync(join(server.dir, 'second.bin'), '22');
  const curl = useCurl(t);
  const listing = (await lastValueFrom(curl.request({ url: server.url, protocols: FTP }))).text();
  const lines = listing.trim().split(/\r?\n/);
  t.is(lines.length, 2, listing);
  t.regex(listing, /\bfirst\.txt\r?$/m);
  t.regex(listing, /\bsecond\.bin\r?$/m);
  t.true(server.commands().includes('LIST'));
});

ftpTest(`download() with resume continues a partial file from where it ends (REST)${skipped}`, async (t) => {
  const server = await useFtpServer(t);
  writeFileSync(join(server.dir, 'big.bin'), PAYLOAD);
  const dir = useTempDir(t, 'rxcurl-ftp-dl-');
  const path = join(dir, 'big.bin');
  const kept = 1_234_567;
  writeFileSync(partialPath(path), PAYLOAD.subarray(0, kept));
  const curl = useCurl(t);
  const events = await lastValueFrom(
    curl
      .download({ url: `${server.url}big.bin`, protocols: FTP, resume: true, progress: true }, path)
      .pipe(toArray()),
  );
  t.true(readFileSync(path).equals(PAYLOAD));
  t.deepEqual(readdirSync(dir), ['big.bin']);
  const done = events.at(-1) as Extract<DownloadEvent, { type: 'done' }>;
  t.is(done.type, 'done');
  t.is(done.bytes, PAYLOAD.length);
  t.is(done.result.downloadedBytes, PAYLOAD.length - kept, 'only the rest travelled');
  const last = events.filter((e) => e.type === 'progress').at(-1);
  t.deepEqual(last, { type: 'progress', downloaded: PAYLOAD.length, total: PAYLOAD.length });
  t.true(server.commands().includes(`REST ${kept}`), server.commands().join('\n'));
});

ftpTest(
  `a missing file is CurlError 78 from request() and download(), which leaves no file${skipped}`,
  async (t) => {
    const server = await useFtpServer(t);
    const curl = useCurl(t);
    const url = `${server.url}missing.txt`;
    const error = await t.throwsAsync(lastValueFrom(curl.request({ url, protocols: FTP })), {
      instanceOf: CurlError,
    });
    t.is(error.code, 78);
    t.is(error.codeName, 'CURLE_REMOTE_FILE_NOT_FOUND');
    t.is(error.result?.status, 550, "the server's reply");
    t.false(error.result?.ok);

    const dir = useTempDir(t, 'rxcurl-ftp-dl-');
    const failed = await t.throwsAsync(
      lastValueFrom(curl.download({ url, protocols: FTP }, join(dir, 'm.txt'))),
      {
        instanceOf: CurlError,
      },
    );
    t.is(failed.code, 78);
    t.deepEqual(readdirSync(dir), []);
  },
);

ftpTest(`ftp:// is refused unless protocols allows it: CurlError 1, no connection${skipped}`, async (t) => {
  const server = await useFtpServer(t);
  writeFileSync(join(server.dir, 'a.txt'), 'a');
  const curl = useCurl(t);
  const error = await t.throwsAsync(lastValueFrom(curl.request(`${server.url}a.txt`)), {
    instanceOf: CurlError,
  });
  t.is(error.code, 1);
  t.is(error.codeName, 'CURLE_UNSUPPORTED_PROTOCOL');
  t.deepEqual(server.commands(), []);
});

ftpTest(
  `transfers one after another on one Curl reuse its control connection, and all finish${skipped}`,
  async (t) => {
    const server = await useFtpServer(t);
    writeFileSync(join(server.dir, 'a.txt'), 'again');
    const curl = useCurl(t);
    const transfers = 20;
    for (let i = 0; i < transfers; i++) {
      const url = i % 3 === 2 ? `${server.url}missing.txt` : `${server.url}a.txt`;
      const outcome = await lastValueFrom(curl.request({ url, protocols: FTP, timeoutMs: 20_000 })).then(
        (response) => response.text(),
        (error: CurlError) => error.code,
      );
      t.is(outcome, i % 3 === 2 ? 78 : 'again', `transfer ${i}`);
    }
    // One control connection for all: libcurl before 8.4.0 can stall a transfer on a reused one
    // (NativeDriver.ftpStalled), often within the first few.
    const logins = server.commands().filter((command) => command.startsWith('USER')).length;
    t.is(logins, 1);
  },
);
