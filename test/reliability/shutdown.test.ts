// Shutdown (issue #6): close() under load releases everything and the process exits by itself;
// a Curl created and closed 10,000 times (1,000 without RXCURL_HEAVY=1) leaks nothing.
// close() semantics in detail (ABORTED, results$/running$ completing, idempotence):
// test/transfers/close.test.ts; a closed Curl being collectable: test/transfers/close.test.ts.
// Durations and RSS are only logged: bounds on them belong in bench/.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { lastValueFrom } from 'rxjs';
import { Curl } from '../../src/index.js';
import {
  describeSnapshot,
  fdLimit,
  HEAVY,
  liveTargets,
  mallocTrim,
  openFds,
  runChild,
  STRICT_HEAVY,
  settle,
  snapshot,
  testNeedingFds,
} from '../helpers/reliability.js';
import { listenForTest } from '../helpers/servers.js';

// The child of the first test holds both ends of every connection, and what Node holds besides.
const closeFds = (n: number) => 2 * n + 300;
const WANTED = HEAVY ? 2000 : 500;
// Outside CI's heavy run, a low fd limit shrinks the case (its title says so); there it fails instead.
const fitting = Math.floor((fdLimit() - closeFds(0)) / 2);
const N = STRICT_HEAVY ? WANTED : Math.max(100, Math.min(WANTED, fitting));
const shrunk = N < WANTED ? ` [shrunk from ${WANTED}: the soft limit of open files is ${fdLimit()}]` : '';

testNeedingFds(
  test,
  closeFds(N),
  `close() with ${N} transfers in every state aborts them all, frees everything, and the process exits${shrunk}`,
  async (t) => {
    const n = N;
    if (shrunk) t.log(`shrunk to ${n} transfers: raise ulimit -n to run ${WANTED}`);
    t.timeout(180_000);
    const fixture = fileURLToPath(new URL('./fixtures/closeUnderLoad.ts', import.meta.url));
    // Killed only if it hangs (the assertion below): it normally exits within seconds.
    const child = await runChild(fixture, [String(n)], 120_000);
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
  },
);

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
  await settle();
  mallocTrim?.();
  const before = snapshot(undefined);
  const targetsBefore = liveTargets();
  const started = Date.now();
  for (let i = 0; i < N; i++) await cycle(i);
  const ms = Date.now() - started;
  await settle();
  const after = snapshot(undefined);
  mallocTrim?.();
  const trimmed = snapshot(undefined);
  const targetsAfter = liveTargets();
  t.log(`${N} Curls created and closed (${N / 10} with a transfer): ${ms} ms`);
  t.log(`before: ${describeSnapshot(before)}; targets ${JSON.stringify(targetsBefore)}`);
  t.log(`after:  ${describeSnapshot(after)}; targets ${JSON.stringify(targetsAfter)}`);
  if (mallocTrim) t.log(`after malloc_trim(0): ${describeSnapshot(trimmed)}`);
  t.deepEqual(targetsAfter, { easy: 0, multi: 0 }, 'no callback target left');
  t.true(after.fds <= before.fds + 3, `fds: ${before.fds} → ${after.fds}`);
  t.true(openFds() < before.fds + 10);
  t.true(
    after.heapMB - before.heapMB < 10,
    `JS heap after GC grew ${(after.heapMB - before.heapMB).toFixed(1)} MB (margin 10 MB)`,
  );
});
