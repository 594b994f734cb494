import test from 'ava';
import { defer, from, Observable, of } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { CurlError, HttpError, schedule, TransferQueue, type TransferQueueOptions } from '../../src/index.js';
import { marbles } from '../helpers/marbles.js';

interface Job {
  host: string;
  name: string;
}

const job = (spec: string): Job => {
  const [host, name] = spec.split('/');
  return { host, name };
};

/** A queue keyed by `host`, and a project that logs "frame name" at each start and runs `body(job)`. */
function harness(
  scheduler: TestScheduler,
  options: TransferQueueOptions<Job>,
  body: (job: Job) => Observable<unknown>,
) {
  const starts: string[] = [];
  const queue = new TransferQueue<Job>({ key: (j) => j.host, scheduler, ...options });
  const project = (j: Job) =>
    defer(() => {
      starts.push(`${scheduler.now()} ${j.host}/${j.name}`);
      return body(j);
    });
  return { queue, starts, project };
}

const jobs = (...specs: string[]) => from(specs.map(job));

test('concurrency: at most N items run at once, all keys together; outputs merge as they come', (t) => {
  const scheduler = marbles(t);
  scheduler.run(({ cold, expectObservable }) => {
    const { queue, project } = harness(scheduler, { concurrency: 2 }, (j) => cold('---x|', { x: j.name }));
    expectObservable(jobs('a/1', 'b/2', 'c/3', 'd/4', 'e/5').pipe(queue.schedule(project))).toBe(
      '---(xy)(zw)v|',
      { x: '1', y: '2', z: '3', w: '4', v: '5' },
    );
  });
});

test('perHost.concurrency: one key never runs more than its limit, and the other keys use the free slots', (t) => {
  const scheduler = marbles(t);
  let starts: string[] = [];
  scheduler.run(({ cold, expectObservable }) => {
    const h = harness(scheduler, { concurrency: 3, perHost: { concurrency: 1 } }, () => cold('-----x|'));
    starts = h.starts;
    expectObservable(jobs('a/1', 'a/2', 'a/3', 'b/1').pipe(h.queue.schedule(h.project))).toBe(
      '-----(xx)--x-----x|',
    );
  });
  t.deepEqual(starts, ['0 a/1', '0 b/1', '6 a/2', '12 a/3']);
});

test('perHost.ratePerSecond: starts of one key are spaced by the token bucket; burst lets that many go at once', (t) => {
  const scheduler = marbles(t);
  let steady: string[] = [];
  let bursty: string[] = [];
  scheduler.run(() => {
    const a = harness(scheduler, { perHost: { ratePerSecond: 2 } }, () => of('x'));
    steady = a.starts;
    jobs('a/1', 'a/2', 'a/3', 'b/1').pipe(a.queue.schedule(a.project)).subscribe();
    const b = harness(scheduler, { perHost: { ratePerSecond: 4, burst: 3 } }, () => of('x'));
    bursty = b.starts;
    jobs('c/1', 'c/2', 'c/3', 'c/4', 'c/5').pipe(b.queue.schedule(b.project)).subscribe();
  });
  t.deepEqual(steady, ['0 a/1', '0 b/1', '500 a/2', '1000 a/3']);
  t.deepEqual(bursty, ['0 c/1', '0 c/2', '0 c/3', '250 c/4', '500 c/5']);
});

test('perHost.minDelayMs: at least that long between two starts of a key, however short its transfers', (t) => {
  const scheduler = marbles(t);
  let starts: string[] = [];
  scheduler.run(({ cold }) => {
    const h = harness(scheduler, { perHost: { minDelayMs: 100 } }, (j) =>
      j.name === '1' ? cold('-'.repeat(150) + '|') : cold('-|'),
    );
    starts = h.starts;
    jobs('a/1', 'a/2', 'a/3', 'b/1', 'b/2').pipe(h.queue.schedule(h.project)).subscribe();
  });
  t.deepEqual(starts, ['0 a/1', '0 b/1', '100 a/2', '100 b/2', '200 a/3']);
});

test('fairness: a key with 10 items and one with 2 share a single slot in turn, so the small one is not stuck behind', (t) => {
  const scheduler = marbles(t);
  let starts: string[] = [];
  scheduler.run(({ cold }) => {
    const h = harness(scheduler, { concurrency: 1 }, () => cold('-|'));
    starts = h.starts;
    const big = Array.from({ length: 10 }, (_, i) => `big/${i}`);
    jobs(...big, 'small/0', 'small/1')
      .pipe(h.queue.schedule(h.project))
      .subscribe();
  });
  t.deepEqual(starts.slice(0, 5), ['0 big/0', '1 small/0', '2 big/1', '3 small/1', '4 big/2']);
  t.is(starts.length, 12);
});

test('priority: larger first within a key and across keys; ties in arrival order', (t) => {
  const scheduler = marbles(t);
  let starts: string[] = [];
  scheduler.run(({ cold }) => {
    const h = harness(scheduler, { concurrency: 1, priority: (j) => (j.name.startsWith('hi') ? 1 : 0) }, () =>
      cold('-|'),
    );
    starts = h.starts;
    // The first item starts at once; the rest wait and are picked by priority.
    jobs('a/first', 'a/lo1', 'b/lo2', 'a/hi1', 'b/hi2', 'a/hi3')
      .pipe(h.queue.schedule(h.project))
      .subscribe();
  });
  t.deepEqual(starts, ['0 a/first', '1 b/hi2', '2 a/hi1', '3 a/hi3', '4 b/lo2', '5 a/lo1']);
});

const throttled = (retryAfter: string) => ({ status: 429, headers: { 'retry-after': retryAfter } });

test('Retry-After on an emitted response pauses its whole key; other keys go on', (t) => {
  const scheduler = marbles(t);
  let starts: string[] = [];
  scheduler.run(({ cold }) => {
    const h = harness(scheduler, { concurrency: 4 }, (j) =>
      j.host === 'a' && j.name === '1'
        ? cold('--(r|)', { r: throttled('2') })
        : cold('--(r|)', { r: { status: 200, headers: {} } }),
    );
    starts = h.starts;
    jobs('a/1', 'a/2', 'b/1').pipe(h.queue.schedule(h.project)).subscribe();
    // a/2 is already running when the 429 comes: it finishes; the next of a waits for the pause.
    cold('----------x').subscribe(() => jobs('a/3', 'b/2').pipe(h.queue.schedule(h.project)).subscribe());
  });
  t.deepEqual(starts, ['0 a/1', '0 a/2', '0 b/1', '10 b/2', '2002 a/3']);
});

test('retry: a transient failure goes back on its key after a doubling backoff and obeys the key limits', (t) => {
  const scheduler = marbles(t);
  let starts: string[] = [];
  let attempts = 0;
  scheduler.run(({ cold, expectObservable }) => {
    const h = harness(scheduler, { retry: { count: 2, baseDelayMs: 100 } }, (j) => {
      if (j.name !== 'flaky') return cold('-(x|)', { x: j.name });
      attempts++;
      return attempts < 3
        ? cold('-#', {}, new CurlError(7, 'refused', 'http://a/'))
        : cold('-(x|)', { x: 'ok' });
    });
    starts = h.starts;
    expectObservable(jobs('a/flaky', 'b/other').pipe(h.queue.schedule(h.project))).toBe('-x 301ms (y|)', {
      x: 'other',
      y: 'ok',
    });
  });
  // First attempt at 0 fails at 1; back at 101, fails at 102; back at 302 (backoff 200).
  t.deepEqual(starts, ['0 a/flaky', '0 b/other', '101 a/flaky', '302 a/flaky']);
});

test('retry: an HttpError 503 with Retry-After pauses the key and the item retries when the pause ends', (t) => {
  const scheduler = marbles(t);
  let starts: string[] = [];
  let attempts = 0;
  scheduler.run(({ cold }) => {
    const h = harness(scheduler, { retry: { count: 1 } }, (j) => {
      if (j.name !== '1') return cold('-|');
      attempts++;
      return attempts === 1
        ? cold('-#', {}, new HttpError(503, { 'retry-after': '3' }, 'http://a/1'))
        : cold('-|');
    });
    starts = h.starts;
    jobs('a/1', 'a/2').pipe(h.queue.schedule(h.project)).subscribe();
  });
  // a/2 started at 0 too (no per-key limit); the retry of a/1 waits out the 3 s pause.
  t.deepEqual(starts, ['0 a/1', '0 a/2', '3001 a/1']);
});

test('a failure that is not retried errors the output, cancels the running items and leaves no timer behind', (t) => {
  const scheduler = marbles(t);
  const cancelled: string[] = [];
  let starts: string[] = [];
  scheduler.run(({ cold, expectObservable }) => {
    const h = harness(scheduler, { concurrency: 2, perHost: { ratePerSecond: 1 } }, (j) =>
      j.name === 'bad'
        ? cold('--#', {}, new HttpError(404, {}, 'http://a/bad'))
        : pending(() => cancelled.push(j.name)),
    );
    starts = h.starts;
    expectObservable(jobs('a/bad', 'b/slow', 'a/later', 'c/never').pipe(h.queue.schedule(h.project))).toBe(
      '--#',
      {},
      new HttpError(404, {}, 'http://a/bad'),
    );
  });
  t.deepEqual(starts, ['0 a/bad', '0 b/slow']);
  t.deepEqual(cancelled, ['slow']);
  t.is(scheduler.actions.length, 0);
});

test('unsubscribing cancels what runs and drops what waits, on every key; the queue is empty after', (t) => {
  const scheduler = marbles(t);
  const cancelled: string[] = [];
  let queue: TransferQueue<Job> | undefined;
  scheduler.run(({ expectObservable }) => {
    const h = harness(scheduler, { concurrency: 2, perHost: { minDelayMs: 50 } }, (j) =>
      pending(() => cancelled.push(j.name)),
    );
    queue = h.queue;
    expectObservable(jobs('a/1', 'a/2', 'b/1', 'c/1').pipe(h.queue.schedule(h.project)), '----!').toBe('-');
  });
  t.deepEqual(cancelled.sort(), ['1', '1']);
  t.deepEqual(queue?.stats(), { queued: 0, active: 0, done: 0, failed: 0, retried: 0, hosts: {} });
  t.is(scheduler.actions.length, 0);
});

test('one queue, two pipelines: the limits are shared, and one pipeline erroring leaves the other running', (t) => {
  const scheduler = marbles(t);
  let starts: string[] = [];
  scheduler.run(({ cold, expectObservable }) => {
    const h = harness(scheduler, { concurrency: 2 }, (j) =>
      j.name === 'bad' ? cold('--#', {}, new Error('boom')) : cold('----(x|)', { x: j.name }),
    );
    starts = h.starts;
    expectObservable(jobs('a/1', 'a/2', 'a/3').pipe(h.queue.schedule(h.project))).toBe('----(ab)(c|)', {
      a: '1',
      b: '2',
      c: '3',
    });
    expectObservable(jobs('b/bad', 'b/4').pipe(h.queue.schedule(h.project))).toBe(
      '------#',
      {},
      new Error('boom'),
    );
  });
  // The first pipeline took both slots; when they free, b (never started) goes first, then a; b/4 is dropped.
  t.deepEqual(starts, ['0 a/1', '0 a/2', '4 b/bad', '4 a/3']);
});

test('scheduleFrom(): an Iterable is read only as items finish, at most `lookahead` ahead', (t) => {
  const scheduler = marbles(t);
  const read: number[] = [];
  function* numbers() {
    for (let i = 0; i < 10; i++) {
      read.push(scheduler.now());
      yield { host: 'h', name: String(i) };
    }
  }
  scheduler.run(({ cold, expectObservable }) => {
    const queue = new TransferQueue<Job>({ key: (j) => j.host, scheduler, concurrency: 2, lookahead: 3 });
    expectObservable(queue.scheduleFrom(numbers(), () => cold('10ms (x|)', { x: 1 }))).toBe(
      '10ms (xx) 6ms (xx) 6ms (xx) 6ms (xx) 6ms (xx|)',
      { x: 1 },
    );
  });
  // Three read at once; then one more each time one finishes.
  t.deepEqual(read, [0, 0, 0, 10, 10, 20, 20, 30, 30, 40]);
});

test('scheduleFrom(): unsubscribing returns the iterator, so a generator runs its finally', (t) => {
  const scheduler = marbles(t);
  let closed = false;
  function* forever() {
    try {
      for (let i = 0; ; i++) yield { host: 'h', name: String(i) };
    } finally {
      closed = true;
    }
  }
  scheduler.run(({ cold, expectObservable }) => {
    const queue = new TransferQueue<Job>({ key: (j) => j.host, scheduler, concurrency: 1 });
    expectObservable(
      queue.scheduleFrom(forever(), () => cold('-(x|)', { x: 1 })),
      '---!',
    ).toBe('-xx', { x: 1 });
  });
  t.true(closed);
});

test('stats$: queued, active, done, failed, retried, and per key with pausedUntil, once per frame that changed', (t) => {
  const scheduler = marbles(t);
  scheduler.run(({ cold, expectObservable }) => {
    const queue = new TransferQueue<Job>({
      key: (j) => j.host,
      scheduler,
      concurrency: 1,
      retry: { count: 1, baseDelayMs: 10 },
    });
    const run = jobs('a/1', 'b/1').pipe(
      queue.schedule((j) =>
        j.host === 'a' ? cold('--(r|)', { r: throttled('1') }) : cold('-#', {}, new Error('x')),
      ),
    );
    expectObservable(queue.stats$, '^ 4ms !').toBe('a-b-c', {
      a: { queued: 0, active: 0, done: 0, failed: 0, retried: 0, hosts: {} },
      b: {
        queued: 1,
        active: 1,
        done: 0,
        failed: 0,
        retried: 0,
        hosts: { a: { queued: 0, active: 1 }, b: { queued: 1, active: 0 } },
      },
      c: {
        queued: 0,
        active: 1,
        done: 1,
        failed: 0,
        retried: 0,
        hosts: { a: { queued: 0, active: 0, pausedUntil: 1004 }, b: { queued: 0, active: 1 } },
      },
    });
    cold('--x').subscribe(() => run.subscribe({ error: () => {} }));
  });
});

test('bad options throw INVALID_INPUT naming the option; schedule() puts the error on the Observable', (t) => {
  const bad: [TransferQueueOptions, string][] = [
    [{ concurrency: 0 }, 'concurrency must be an integer >= 1, got 0'],
    [{ perHost: { ratePerSecond: -1 } }, 'perHost.ratePerSecond must be a number > 0, got -1'],
    [{ perHost: { burst: 1.5 } }, 'perHost.burst must be an integer >= 1, got 1.5'],
    [{ perHost: { minDelayMs: Number.NaN } }, 'perHost.minDelayMs must be a number >= 0, got null'],
    [{ retry: { count: -1 } }, 'retry.count must be an integer >= 0, got -1'],
    [{ lookahead: 0 }, 'lookahead must be an integer >= 1, got 0'],
    [{ key: 'host' as never }, 'key must be a function, got "host"'],
  ];
  for (const [options, message] of bad) {
    const error = t.throws(() => new TransferQueue(options), { instanceOf: CurlError });
    t.is(error?.code, 'INVALID_INPUT');
    t.is(error?.message, `TransferQueue: ${message}`);
  }
  let seen: unknown;
  of('http://a/')
    .pipe(schedule({ concurrency: -1 }, (url) => of(url)))
    .subscribe({ error: (e) => (seen = e) });
  t.is((seen as CurlError).code, 'INVALID_INPUT');
});

test('the default key is the origin; an item without a URL, or a key() that throws, errors the output', (t) => {
  const scheduler = marbles(t);
  let starts: string[] = [];
  scheduler.run(({ cold, expectObservable }) => {
    const queue = new TransferQueue({ scheduler, perHost: { concurrency: 1 } });
    const seen: string[] = [];
    starts = seen;
    const urls = [
      'http://A.test:80/1',
      'http://a.test/2',
      'https://a.test/3',
      'HTTP://user@a.test:8080/4',
      'https://a.test:443/5',
    ];
    expectObservable(
      from(urls.map((url) => ({ url }))).pipe(
        queue.schedule(({ url }) =>
          defer(() => {
            seen.push(`${scheduler.now()} ${url}`);
            return cold('10ms (x|)', { x: 1 });
          }),
        ),
      ),
    ).toBe('10ms (xxx) 5ms (xx|)', { x: 1 });
    expectObservable(of(42).pipe(queue.schedule((n) => of(n)))).toBe(
      '#',
      {},
      new CurlError(
        'INVALID_INPUT',
        'TransferQueue: no URL in the item (a string, item.url or item.request.url); give the queue a key function',
        '',
      ),
    );
    const throwing = new TransferQueue<string>({ scheduler, key: () => throwError_() });
    expectObservable(of('x').pipe(throwing.schedule((s) => of(s)))).toBe('#', {}, new Error('no key'));
  });
  // http://a.test:80 and http://a.test are one key; https://a.test:443 and https://a.test another; :8080 a third.
  t.deepEqual(starts, [
    '0 http://A.test:80/1',
    '0 https://a.test/3',
    '0 HTTP://user@a.test:8080/4',
    '10 http://a.test/2',
    '10 https://a.test:443/5',
  ]);
});

test('a source item pushed while everything runs waits; the queue starts it when a slot frees', (t) => {
  const scheduler = marbles(t);
  scheduler.run(({ cold, hot, expectObservable }) => {
    const queue = new TransferQueue<string>({ scheduler, concurrency: 1, key: () => 'k' });
    const source = hot('a-b-c|');
    expectObservable(source.pipe(queue.schedule((s) => cold('---(x|)', { x: s })))).toBe('---a--b--(c|)');
  });
});

function throwError_(): never {
  throw new Error('no key');
}

/** An Observable that never emits and reports when it is unsubscribed. */
function pending(onCancel: () => void): Observable<string> {
  return new Observable<string>(() => onCancel);
}
