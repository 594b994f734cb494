// Property-based test of TransferQueue's limits, with fast-check, in virtual time: arbitrary limits
// and arbitrary items (key, arrival, duration, priority). Whatever the case, every item runs once,
// and no limit is ever broken: the global and per-key concurrency, the minimum delay, the token
// bucket; and the queue never leaves a slot idle while an item whose key may start waits. The seed is
// logged, and RXCURL_PROPERTY_SEED replays it.
import test from 'ava';
import fc from 'fast-check';
import { defer, finalize, from, map, mergeMap, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { type PerKeyLimits, TransferQueue } from '../../src/index.js';

const RUNS = Number(process.env.RXCURL_PROPERTY_RUNS ?? 300);

interface Item {
  id: number;
  key: string;
  arrival: number;
  duration: number;
  priority: number;
}

const caseArbitrary = fc.record({
  concurrency: fc.integer({ min: 1, max: 6 }),
  perHost: fc.record(
    {
      concurrency: fc.integer({ min: 1, max: 4 }),
      ratePerSecond: fc.integer({ min: 5, max: 200 }),
      burst: fc.integer({ min: 1, max: 4 }),
      minDelayMs: fc.integer({ min: 0, max: 40 }),
    },
    { requiredKeys: [] },
  ),
  items: fc.array(
    fc.record({
      key: fc.constantFrom('a', 'b', 'c', 'd'),
      arrival: fc.integer({ min: 0, max: 100 }),
      duration: fc.integer({ min: 0, max: 30 }),
      priority: fc.integer({ min: 0, max: 2 }),
    }),
    { minLength: 1, maxLength: 40 },
  ),
});

interface Run {
  start: number;
  end: number;
}

/** Runs the case in virtual time; returns each item's start and end. */
function simulate(concurrency: number, perHost: PerKeyLimits, items: Item[]): Map<number, Run> {
  const runs = new Map<number, Run>();
  const scheduler = new TestScheduler(() => {});
  scheduler.run(() => {
    const queue = new TransferQueue<Item>({
      scheduler,
      concurrency,
      perHost,
      key: (item) => item.key,
      priority: (item) => item.priority,
    });
    from(items)
      .pipe(
        mergeMap((item) => timer(item.arrival, scheduler).pipe(map(() => item))),
        queue.schedule((item) =>
          defer(() => {
            const run = { start: scheduler.now(), end: -1 };
            runs.set(item.id, run);
            return timer(item.duration, scheduler).pipe(finalize(() => (run.end = scheduler.now())));
          }),
        ),
      )
      .subscribe();
  });
  return runs;
}

/** The first broken rule, or undefined. */
function broken(
  concurrency: number,
  perHost: PerKeyLimits,
  items: Item[],
  runs: Map<number, Run>,
): string | undefined {
  for (const item of items) {
    const run = runs.get(item.id);
    if (run === undefined) return `item ${item.id} never ran`;
    if (run.start < item.arrival) return `item ${item.id} started before it arrived`;
    if (run.end !== run.start + item.duration) return `item ${item.id} did not run its whole course`;
  }
  const times = [
    ...new Set(items.flatMap((i) => [i.arrival, runs.get(i.id)!.start, runs.get(i.id)!.end])),
  ].sort((x, y) => x - y);
  const perKeyLimit = perHost.concurrency ?? Number.POSITIVE_INFINITY;
  for (const t of times) {
    // The state once every event of time t has happened.
    const running = items.filter((i) => runs.get(i.id)!.start <= t && t < runs.get(i.id)!.end);
    if (running.length > concurrency) return `${running.length} running at ${t}, limit ${concurrency}`;
    const byKey = new Map<string, number>();
    for (const i of running) byKey.set(i.key, (byKey.get(i.key) ?? 0) + 1);
    for (const [key, n] of byKey)
      if (n > perKeyLimit) return `${n} of ${key} running at ${t}, limit ${perKeyLimit}`;
    const waiting = items.filter((i) => i.arrival <= t && t < runs.get(i.id)!.start);
    for (const i of waiting) {
      const startsOfKey = items.filter((j) => j.key === i.key).map((j) => runs.get(j.id)!.start);
      if (
        running.length < concurrency &&
        (byKey.get(i.key) ?? 0) < perKeyLimit &&
        mayStart(
          t,
          startsOfKey.filter((s) => s <= t).sort((x, y) => x - y),
          perHost,
        )
      ) {
        return `item ${i.id} (${i.key}) waited at ${t} while it could start`;
      }
    }
  }
  for (const key of new Set(items.map((i) => i.key))) {
    const starts = items
      .filter((i) => i.key === key)
      .map((i) => runs.get(i.id)!.start)
      .sort((x, y) => x - y);
    const minDelay = perHost.minDelayMs ?? 0;
    for (let n = 1; n < starts.length; n++) {
      if (starts[n] - starts[n - 1] < minDelay)
        return `${key} started ${starts[n] - starts[n - 1]} ms apart, min ${minDelay}`;
    }
    if (perHost.ratePerSecond === undefined) continue;
    // A token bucket of `burst` filled at `rate`: any window [starts[i], starts[j]] holds at most burst + rate × its length.
    const burst = perHost.burst ?? 1;
    for (let i = 0; i < starts.length; i++) {
      for (let j = i; j < starts.length; j++) {
        const allowed = burst + ((starts[j] - starts[i]) * perHost.ratePerSecond) / 1000 + 1e-9;
        if (j - i + 1 > allowed)
          return `${key}: ${j - i + 1} starts in ${starts[j] - starts[i]} ms, bucket allows ${allowed}`;
      }
    }
  }
  return undefined;
}

/** Whether the key's rate and minimum delay allow a start at `t`, after the starts it had (the definition of the token bucket). */
function mayStart(t: number, starts: number[], perHost: PerKeyLimits): boolean {
  const last = starts.at(-1);
  if (last !== undefined && t < last + (perHost.minDelayMs ?? 0)) return false;
  if (perHost.ratePerSecond === undefined) return true;
  const interval = 1000 / perHost.ratePerSecond;
  let theoretical = Number.NEGATIVE_INFINITY;
  for (const s of starts) theoretical = Math.max(theoretical, s) + interval;
  return t >= theoretical - ((perHost.burst ?? 1) - 1) * interval + 1e-6;
}

test('whatever the limits and the items, every item runs once and no limit is broken', (t) => {
  const details = fc.check(
    fc.property(caseArbitrary, ({ concurrency, perHost, items: specs }) => {
      const items = specs.map((spec, id) => ({ id, ...spec }));
      const problem = broken(concurrency, perHost, items, simulate(concurrency, perHost, items));
      if (problem !== undefined) throw new Error(problem);
    }),
    {
      numRuns: RUNS,
      ...(process.env.RXCURL_PROPERTY_SEED ? { seed: Number(process.env.RXCURL_PROPERTY_SEED) } : {}),
    },
  );
  t.log(`${details.numRuns} cases (seed ${details.seed})`);
  t.false(details.failed, details.failed ? `${fc.defaultReportMessage(details)}` : '');
  t.like(details, { interrupted: false, numRuns: RUNS, numSkips: 0 });
});
