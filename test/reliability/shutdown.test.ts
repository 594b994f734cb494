// Shutdown (issue #6): close() under load releases everything and the process exits by itself;
// a Curl created and closed 10,000 times (1,000 without RXCURL_HEAVY=1) leaks nothing.
// close() semantics in detail (ABORTED, results$/running$ completing, idempotence):
// test/integration/close.test.ts; a closed Curl being collectable: test/integration/memory.test.ts.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import test from 'ava';
import { lastValueFrom } from 'rxjs';
import { Curl } from '../../src/index.js';
import { easyTargets, multiTargets } from '../../src/native/callbacks.js';
import {
  describeSnapshot,
  fdLimit,
  HEAVY,
  mallocTrim,
  openFds,
  runChild,
  settle,
  snapshot,
} from '../helpers/reliability.js';
import { listenForTest } from '../helpers/servers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const live = (table: unknown) => (table as { items: unknown[] }).items.filter((i) => i !== undefined).length;

test('close() with thousands of transfers in every state aborts them all, frees everything, and the process exits', async (t) => {
  // The child holds both ends of every connection.
  const wanted = HEAVY ? 2000 : 500;
  const n = Math.min(wanted, Math.floor((fdLimit() - 300) / 2));
  if (n < 100) {
    t.log(`SKIPPED: the open file limit (${fdLimit()}) is too low`);
    t.pass();
    return;
  }
  const fixture = fileURLToPath(new URL('./fixtures/closeUnderLoad.ts', import.meta.url));
  const child = await runChild(fixture, [String(n)], 60_000);
  t.false(child.timedOut, 'the process exited by itself after close(): nothing kept it alive');
  t.is(child.code, 0, child.stderr);
  const report = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}');
  t.log(
    `${n} transfers, ${report.requestsAtClose} had reached the server; close() took ${report.closeMs} ms; ` +
      `child exited ${child.ms} ms after start`,
  );
  t.log(`in flight at close(): ${JSON.stringify(report.inFlight)}`);
  t.log(
    `after close(): ${JSON.stringify(report.afterClose)}; callback targets ${JSON.stringify(report.targets)}`,
  );
  t.log(`fds: before ${report.fds.before}, peak ${report.fds.peak}, after ${report.fds.after}`);
  t.is(report.inFlight.transfers, n);
  t.true(report.requestsAtClose > 0 && report.requestsAtClose < n * 1.01);
  t.deepEqual(report.outcomes, { ABORTED: n }, 'every transfer errored with ABORTED, none hung');
  t.is(report.results, 'complete');
  t.is(report.running, 'complete');
  t.deepEqual(report.afterClose, {
    transfers: 0,
    easyHandles: 0,
    pooledHandles: 0,
    sockets: 0,
    timerArmed: false,
  });
  t.deepEqual(report.targets, { easy: 0, multi: 0 }, 'callback targets released after curl_multi_cleanup');
  t.true(report.fds.after <= report.fds.before, 'every socket closed');
  t.true(report.closeMs < 5000);
});

test(`a Curl created and closed ${HEAVY ? '10,000' : '1,000'} times leaks nothing`, async (t) => {
  const N = HEAVY ? 10_000 : 1_000;
  // Not useServer: it keeps every request it saw, which would show up as heap growth here.
  const plain = http.createServer((_req, res) => res.end('ok'));
  const server = { url: `http://127.0.0.1:${await listenForTest(t, plain)}` };
  const cycle = async (i: number) => {
    const curl = new Curl();
    // Every 10th does a transfer, so a multi with a connection, a pooled handle and a share is closed too.
    if (i % 10 === 0) {
      const response = await lastValueFrom(curl.request(`${server.url}/`));
      if (response.text() !== 'ok') t.fail(`cycle ${i}`);
    }
    await curl.close();
  };
  // Warm up: V8's code, OpenSSL's and libcurl's global state reach their steady size first.
  for (let i = 0; i < 1000; i++) await cycle(i * 10);
  await settle(gc);
  mallocTrim?.();
  const before = snapshot(undefined);
  const targetsBefore = { easy: live(easyTargets), multi: live(multiTargets) };
  const started = Date.now();
  for (let i = 0; i < N; i++) await cycle(i);
  const ms = Date.now() - started;
  await settle(gc);
  const after = snapshot(undefined);
  mallocTrim?.();
  const trimmed = snapshot(undefined);
  const targetsAfter = { easy: live(easyTargets), multi: live(multiTargets) };
  t.log(`${N} Curls created and closed (${N / 10} with a transfer): ${ms} ms`);
  t.log(`before: ${describeSnapshot(before)}; targets ${JSON.stringify(targetsBefore)}`);
  t.log(`after:  ${describeSnapshot(after)}; targets ${JSON.stringify(targetsAfter)}`);
  if (mallocTrim) t.log(`after malloc_trim(0): ${describeSnapshot(trimmed)}`);
  t.deepEqual(targetsAfter, { easy: 0, multi: 0 }, 'no callback target left');
  t.true(after.fds <= before.fds + 3, `fds: ${before.fds} → ${after.fds}`);
  t.true(openFds() < before.fds + 10);
  t.true(
    after.rssMB - before.rssMB < 40,
    `RSS grew ${(after.rssMB - before.rssMB).toFixed(1)} MB (bound 40 MB)`,
  );
  // What glibc keeps in its arenas is not a leak: after malloc_trim the growth must be small.
  if (mallocTrim) {
    const kept = trimmed.rssMB - before.rssMB;
    t.true(kept < 15, `RSS after malloc_trim grew ${kept.toFixed(1)} MB (bound 15 MB)`);
  }
  t.true(
    after.heapMB - before.heapMB < 10,
    `heap grew ${(after.heapMB - before.heapMB).toFixed(1)} MB (bound 10 MB)`,
  );
});
