// Load and leaks (issue #6). Every test logs its before/after numbers with t.log.
// The full sizes run with RXCURL_HEAVY=1 (.ci/run sets it); without it, smaller sizes run.
//
//   in flight at once:     10,000 (heavy)   /  1,000
//   in sequence batches:  100,000 (heavy)   / 10,000
//   subscribe/unsubscribe: 10,000 (heavy)   /  2,000
//
// The servers of the first two run in a child process (test/helpers/loadServer.ts), so this
// process's file descriptor limit only holds the client's sockets.
import v8 from 'node:v8';
import vm from 'node:vm';
import test from 'ava';
import { from, lastValueFrom, map, mergeMap, range, reduce, type Subscription } from 'rxjs';
import { easyTargets, multiTargets } from '../../src/native/callbacks.js';
import { type LoadServer, startLoadServer } from '../helpers/loadServer.js';
import {
  describeSnapshot,
  fdLimit,
  HEAVY,
  mallocTrim,
  openFds,
  settle,
  snapshot,
  useRawServer,
} from '../helpers/reliability.js';
import { useCurl, waitFor } from '../helpers/servers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Live entries of the process-wide callback target tables (one per easy handle, one per multi). */
function liveTargets(): { easy: number; multi: number } {
  const count = (table: unknown) => {
    const { items } = table as { items: unknown[] };
    return items.filter((item) => item !== undefined).length;
  };
  return { easy: count(easyTargets), multi: count(multiTargets) };
}

let server: LoadServer;
test.before(async () => {
  server = await startLoadServer();
});
test.after.always(() => server?.close());

const IN_FLIGHT = HEAVY ? 10_000 : 1_000;
const SEQUENTIAL = HEAVY ? 100_000 : 10_000;
const STORM = HEAVY ? 10_000 : 2_000;

test.serial(
  `${IN_FLIGHT} transfers in flight at once all complete; memory and fds are given back`,
  async (t) => {
    const limit = fdLimit();
    // One socket per transfer, plus what Node, libuv and ava hold.
    const needed = IN_FLIGHT + openFds() + 200;
    if (limit < needed) {
      t.log(`SKIPPED: needs ${needed} open files, the limit is ${limit} (raise it with ulimit -n)`);
      t.pass();
      return;
    }
    const curl = useCurl(t);
    await lastValueFrom(curl.request(`${server.url}/n/2`)); // warm: libcurl and the pools exist
    await settle(gc);
    mallocTrim?.();
    const before = snapshot(curl);
    const targetsBefore = liveTargets();

    // Every transfer waits at the server until all of them have arrived: they are truly concurrent.
    let done = 0;
    let bytes = 0;
    const all = lastValueFrom(
      range(IN_FLIGHT).pipe(
        mergeMap(() => curl.request(`${server.url}/hold`)),
        reduce((n, response) => {
          done++;
          bytes += response.body.length;
          return n + (response.text() === 'held' ? 1 : 0);
        }, 0),
      ),
    );
    const started = Date.now();
    await waitFor(() => curl.stats().transfers === IN_FLIGHT, 'every transfer to start', 10_000);
    let held = 0;
    while (held < IN_FLIGHT) {
      held = (await server.stats()).held;
      if (Date.now() - started > 60_000) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const peak = snapshot(curl);
    const serverPeak = await server.stats();
    t.is(held, IN_FLIGHT, 'every request reached the server before any was answered');
    server.release();
    const ok = await all;
    const ms = Date.now() - started;
    t.is(ok, IN_FLIGHT);
    t.is(done, IN_FLIGHT);
    t.is(bytes, IN_FLIGHT * 4);
    t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
    t.true(curl.stats().pooledHandles <= 256, 'the pool keeps at most 256 idle handles');

    await curl.close();
    await settle(gc);
    const after = snapshot(undefined);
    mallocTrim?.();
    const trimmed = snapshot(undefined);
    const targetsAfter = liveTargets();
    t.log(`${IN_FLIGHT} in flight at once, ${ms} ms`);
    t.log(`before: ${describeSnapshot(before)}`);
    t.log(
      `peak:   ${describeSnapshot(peak)} (server held ${serverPeak.held}, ${serverPeak.connections} connections)`,
    );
    t.log(`after close(): ${describeSnapshot(after)}`);
    if (mallocTrim) t.log(`after close() and malloc_trim(0): ${describeSnapshot(trimmed)}`);
    t.log(`callback targets: before ${JSON.stringify(targetsBefore)}, after ${JSON.stringify(targetsAfter)}`);
    t.log(
      `RSS per transfer in flight: ${(((peak.rssMB - before.rssMB) * 1e6) / IN_FLIGHT / 1024).toFixed(1)} KiB`,
    );
    t.true(peak.stats.easyHandles === IN_FLIGHT);
    t.true(peak.fds >= before.fds + IN_FLIGHT * 0.9, 'one socket per transfer while they ran');
    t.true(after.fds <= before.fds + 5, `fds back to baseline: ${before.fds} → ${after.fds}`);
    t.is(targetsAfter.easy, targetsBefore.easy - before.stats.pooledHandles, 'no easy handle target left');
    t.is(targetsAfter.multi, targetsBefore.multi - 1, "the multi's target released");
    // Memory per transfer in flight is bounded (libcurl's 100 KiB receive buffer is only touched
    // by bytes that arrive), and most of it is given back once they are done.
    t.true(peak.rssMB - before.rssMB < (IN_FLIGHT * 200) / 1024, 'under 200 KiB of RSS per transfer');
    t.true(
      after.heapMB - before.heapMB < 5,
      `JS heap back to baseline: ${before.heapMB} → ${after.heapMB} MB`,
    );
    if (mallocTrim) {
      const kept = trimmed.rssMB - before.rssMB;
      const bound = (peak.rssMB - before.rssMB) * 0.15 + 10;
      t.true(
        kept < bound,
        `after trim, ${kept.toFixed(1)} MB of the peak's RSS is kept (bound ${bound.toFixed(1)} MB)`,
      );
    }
  },
);

test.serial(
  `${SEQUENTIAL} transfers in sequence batches: no growth of fds, handles, sockets or RSS`,
  async (t) => {
    const curl = useCurl(t);
    const BATCH = 1000;
    const CONCURRENCY = 50;
    const batch = () =>
      lastValueFrom(
        range(BATCH).pipe(
          mergeMap((i) => curl.request(`${server.url}/n/${(i % 64) + 1}`), CONCURRENCY),
          reduce((n, response) => n + response.body.length, 0),
        ),
      );
    const expectedBytes = Array.from({ length: BATCH }, (_, i) => (i % 64) + 1).reduce((a, b) => a + b, 0);
    // Warm up: connections, pooled handles, V8's code and libcurl's caches exist before measuring.
    for (let i = 0; i < 3; i++) t.is(await batch(), expectedBytes);
    await settle(gc);
    const before = snapshot(curl);
    const targetsBefore = liveTargets();
    const started = Date.now();
    const samples: number[] = [];
    for (let done = 0; done < SEQUENTIAL; done += BATCH) {
      const bytes = await batch();
      if (bytes !== expectedBytes) t.fail(`batch at ${done}: ${bytes} bytes`);
      if (done % (SEQUENTIAL / 10) === 0) samples.push(Math.round(process.memoryUsage.rss() / 1e6));
    }
    const ms = Date.now() - started;
    await settle(gc);
    const after = snapshot(curl);
    const targetsAfter = liveTargets();
    t.log(
      `${SEQUENTIAL} transfers in batches of ${BATCH}, ${CONCURRENCY} at a time: ${ms} ms, ${Math.round((SEQUENTIAL * 1000) / ms)}/s`,
    );
    t.log(`before: ${describeSnapshot(before)}`);
    t.log(`after:  ${describeSnapshot(after)}`);
    t.log(`RSS every ${SEQUENTIAL / 10} transfers (MB): ${samples.join(' ')}`);
    t.log(`callback targets: before ${JSON.stringify(targetsBefore)}, after ${JSON.stringify(targetsAfter)}`);
    t.like(after.stats, { transfers: 0, easyHandles: 0, timerArmed: after.stats.timerArmed });
    t.true(after.stats.pooledHandles <= 256);
    t.true(after.stats.pooledHandles <= before.stats.pooledHandles + 0, 'the pool did not grow');
    t.true(after.stats.sockets <= CONCURRENCY, `sockets watched: ${after.stats.sockets}`);
    t.true(after.fds <= before.fds + 5, `fds: ${before.fds} → ${after.fds}`);
    t.deepEqual(targetsAfter, targetsBefore, 'callback targets: no growth');
    t.true(
      after.rssMB - before.rssMB < 40,
      `RSS grew ${(after.rssMB - before.rssMB).toFixed(1)} MB (bound 40 MB)`,
    );
    t.true(
      after.heapMB - before.heapMB < 20,
      `heap grew ${(after.heapMB - before.heapMB).toFixed(1)} MB (bound 20 MB)`,
    );
  },
);

/**
 * The storm's server: answers in three steps, so a cancellation can land between them.
 * The status line and half the head, a pause, the rest of the head and half the body, a pause,
 * the rest. Connection: close, so nothing of a cancelled transfer is reused.
 */
async function useStepServer(t: Parameters<typeof useRawServer>[0], pauseMs: () => number) {
  const stages = new Map<number, (stage: 'head' | 'body') => void>();
  const server = await useRawServer(t, (socket, head) => {
    const id = Number(/GET \/s\/(\d+)/.exec(head)?.[1] ?? -1);
    const step = (fn: () => void) =>
      setTimeout(() => {
        if (!socket.destroyed) fn();
      }, pauseMs());
    socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nX-Part: 1\r\n');
    stages.get(id)?.('head');
    step(() => {
      socket.write('Content-Length: 2000\r\n\r\n' + 'x'.repeat(1000));
      stages.get(id)?.('body');
      step(() => socket.end('y'.repeat(1000)));
    });
  });
  return { server, stages };
}

test.serial(`a storm of ${STORM} subscribe/unsubscribe at random moments leaks no handle`, async (t) => {
  // A seeded generator, so a failure can be replayed.
  let seed = 0x2545f491;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const { server: steps, stages } = await useStepServer(t, () => 1 + Math.floor(random() * 4));
  const curl = useCurl(t);
  await lastValueFrom(curl.request(`${steps.url}/s/-1`));
  await settle(gc);
  const before = snapshot(curl);
  const targetsBefore = liveTargets();
  const moments = ['sync', 'beforeConnect', 'midHeaders', 'midBody', 'onFirstData', 'random', 'afterDone'];
  const counts: Record<string, number> = Object.fromEntries(moments.map((m) => [m, 0]));
  let completedExact = 0;
  let wrong = 0;

  const one = (id: number) =>
    new Promise<void>((resolve) => {
      const moment = moments[Math.floor(random() * moments.length)];
      counts[moment]++;
      let subscription: Subscription | undefined;
      let ended = false;
      let received = 0;
      const cancel = () => {
        if (ended) return;
        ended = true;
        stages.delete(id);
        subscription?.unsubscribe();
        resolve();
      };
      if (moment === 'midHeaders') stages.set(id, (stage) => stage === 'head' && setImmediate(cancel));
      if (moment === 'midBody') stages.set(id, (stage) => stage === 'body' && setImmediate(cancel));
      subscription = curl.transfer(`${steps.url}/s/${id}`).subscribe({
        next: (event) => {
          if (event.type === 'data') {
            received += event.chunk.length;
            if (moment === 'onFirstData') cancel(); // from inside the handler, inside libcurl's callback
          }
        },
        error: (err) => {
          wrong++;
          t.log(`transfer ${id} (${moment}) failed: ${String(err)}`);
          ended = true;
          resolve();
        },
        complete: () => {
          if (received === 2000) completedExact++;
          else if (!ended) wrong++;
          ended = true;
          stages.delete(id);
          resolve();
          if (moment === 'afterDone') subscription?.unsubscribe();
        },
      });
      if (moment === 'sync') cancel();
      else if (moment === 'beforeConnect') queueMicrotask(cancel);
      else if (moment === 'random') setTimeout(cancel, random() * 12);
    });

  const started = Date.now();
  await lastValueFrom(
    from(range(STORM)).pipe(
      mergeMap((id) => one(id), 200),
      map(() => 0),
    ),
    {
      defaultValue: 0,
    },
  );
  const ms = Date.now() - started;
  await waitFor(
    () => curl.stats().transfers === 0 && curl.stats().easyHandles === 0,
    'the engine to be idle',
  );
  // libcurl closes a cancelled transfer's connection; the server sees every one go.
  await waitFor(() => steps.sockets.size === 0, 'every connection to close', 10_000);
  const check = await lastValueFrom(curl.request(`${steps.url}/s/-1`));
  t.is(check.body.length, 2000, 'a normal transfer after the storm');
  await settle(gc);
  const after = snapshot(curl);
  const targetsAfter = liveTargets();
  t.log(`${STORM} transfers, 200 at a time, ${ms} ms; moments: ${JSON.stringify(counts)}`);
  t.log(`completed exactly: ${completedExact}, wrong: ${wrong}`);
  t.log(`before: ${describeSnapshot(before)}`);
  t.log(`after:  ${describeSnapshot(after)}`);
  t.log(`callback targets: before ${JSON.stringify(targetsBefore)}, after ${JSON.stringify(targetsAfter)}`);
  t.is(wrong, 0);
  t.true(completedExact >= counts.afterDone, 'every transfer left alone completed with its exact body');
  for (const moment of moments) t.true(counts[moment] > 0, `moment ${moment} was tried`);
  t.like(after.stats, { transfers: 0, easyHandles: 0, sockets: 0 });
  t.true(after.stats.pooledHandles <= 256);
  t.true(after.fds <= before.fds + 5, `fds: ${before.fds} → ${after.fds}`);
  t.true(targetsAfter.easy <= targetsBefore.easy + 256, 'easy targets: at most the pool');
  t.is(targetsAfter.multi, targetsBefore.multi);
  t.true(
    after.rssMB - before.rssMB < 60,
    `RSS grew ${(after.rssMB - before.rssMB).toFixed(1)} MB (bound 60 MB)`,
  );
});
