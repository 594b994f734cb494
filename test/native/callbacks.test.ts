import http from 'node:http';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { Curl, CurlError } from '../../src/index.js';
import { EasySlot } from '../../src/native/EasySlot.js';
import { overLimitMessage, runChild } from '../helpers/reliability.js';
import { listenForTest } from '../helpers/servers.js';

async function serve(t: ExecutionContext, body: Buffer): Promise<string> {
  const server = http.createServer((_req, res) => res.end(body));
  return `http://127.0.0.1:${await listenForTest(t, server)}/`;
}

interface CallbackCount {
  atStart: number;
  afterLoad: number;
  afterOneOfEach: number;
  inFlight: {
    callbacks: number;
    stats: { transfers: number; easyHandles: number };
    targets: { easy: number; multi: number };
  };
  completedInFlight: number;
  completedMore: number;
  afterMore: number;
  afterClose: { callbacks: number; targets: { easy: number; multi: number } };
}

// koffi allows 8192 registered callbacks at once: one per transfer would cap concurrency and leak.
// Counted by koffi itself (koffi.stats().callbacks), in a child process where nothing else runs.
test('one registered callback of each kind serves every transfer: the count does not grow with transfers', async (t) => {
  const IN_FLIGHT = 300;
  const MORE = 1500;
  const fixture = fileURLToPath(new URL('./fixtures/callbackCount.ts', import.meta.url));
  const child = await runChild(fixture, [String(IN_FLIGHT), String(MORE)], 120_000);
  t.is(child.code, 0, child.stderr);
  const report = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as CallbackCount;
  t.log(JSON.stringify(report));
  t.is(report.atStart, 0);
  // A download, an upload and a transfer with progress events register what the transfers use.
  const perProcess = report.afterOneOfEach;
  t.true(perProcess > 0, 'the callbacks are registered, and counted');
  t.true(perProcess <= 10, `${perProcess} registered callbacks for one of each kind of transfer`);
  t.is(report.completedInFlight, IN_FLIGHT);
  t.like(report.inFlight.stats, { transfers: IN_FLIGHT, easyHandles: IN_FLIGHT });
  t.true(report.inFlight.targets.easy >= IN_FLIGHT, 'a callback target (not a callback) per easy handle');
  t.is(report.inFlight.callbacks, perProcess, `none more with ${IN_FLIGHT} transfers in flight`);
  t.is(report.completedMore, MORE);
  t.is(report.afterMore, perProcess, `none more after ${MORE} more transfers`);
  t.deepEqual(report.afterClose.targets, { easy: 0, multi: 0 }, 'every callback target released');
  t.true(report.afterClose.callbacks <= perProcess);
});

test('an exception thrown inside the write callback fails that transfer with it, not with a silent write error', async (t) => {
  const url = await serve(t, Buffer.alloc(100_000, 1));
  const curl = new Curl();
  // Fault injection: reading the response head (done inside the write callback) throws for one URL.
  const boom = new Error('head reader failed');
  const respond = EasySlot.prototype.respond;
  EasySlot.prototype.respond = function (this: EasySlot, transfer) {
    if (transfer.request.url.endsWith('?boom')) throw boom;
    respond.call(this, transfer);
  };
  t.teardown(() => {
    EasySlot.prototype.respond = respond;
  });
  const [failed, fine] = await Promise.all([
    lastValueFrom(curl.request(`${url}?boom`)).catch((e) => e),
    lastValueFrom(curl.request(url)),
  ]);
  t.is(failed, boom);
  t.is(fine.body.length, 100_000);
  t.is(curl.stats().transfers, 0);
  await curl.close();
});

test('maxBodyBytes: a body growing past the limit fails with CURLE_FILESIZE_EXCEEDED from the write callback', async (t) => {
  // Chunked, so libcurl cannot know the size up front and only our count can stop it.
  const server = http.createServer((_req, res) => {
    res.write(Buffer.alloc(60_000));
    res.end(Buffer.alloc(60_000));
  });
  const port = await listenForTest(t, server);
  const curl = new Curl();
  const url = `http://127.0.0.1:${port}/`;
  const error = await lastValueFrom(curl.request({ url, maxBodyBytes: 50_000 })).catch((e) => e);
  t.true(error instanceof CurlError);
  t.is(error.code, 63);
  // From libcurl 8.4.0 on, libcurl's own CURLOPT_MAXFILESIZE stops such a body before our count does.
  t.regex(error.message, overLimitMessage({ decoded: false }));
  const whole = await lastValueFrom(curl.request({ url, maxBodyBytes: 200_000 }));
  t.is(whole.body.length, 120_000);
  await curl.close();
});
