// TransferQueue with real libcurl against five hosts (127.0.0.2 … 127.0.0.6, one server): the
// limits, fairness, pauses and retries the marble tests prove in virtual time, seen from the
// server. Every check is a count, a maximum or a lower bound on time, so a busy machine cannot
// fail it by chance.
import type http from 'node:http';
import test, { type ExecutionContext } from 'ava';
import {
  asyncScheduler,
  defer,
  from,
  lastValueFrom,
  map,
  type Observable,
  type SchedulerLike,
  tap,
  toArray,
} from 'rxjs';
import { type Curl, ensureOk, TransferQueue } from '../../src/index.js';
import { useCurl, useMultiHostServer, waitFor } from '../helpers/servers.js';

const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];

/** What the server saw of one host (one origin). */
interface HostRecord {
  inFlight: number;
  maxInFlight: number;
  /** Date.now() at each request's arrival. */
  arrivals: number[];
}

type Respond = (req: http.IncomingMessage, res: http.ServerResponse, origin: string, nth: number) => void;

/**
 * The five hosts on one server, recording per host and in all the requests in flight: counted
 * from the request's arrival until its response has been written out (or its connection closed),
 * so the server never counts more than the client runs. `respond` answers the nth request of
 * that origin (0-based).
 */
async function fiveHosts(t: ExecutionContext, respond: Respond) {
  const hosts = new Map<string, HostRecord>();
  const all = { inFlight: 0, maxInFlight: 0 };
  const server = await useMultiHostServer(t, HOSTS, (req, res) => {
    const origin = `http://${req.headers.host}`;
    const host = hosts.get(origin)!;
    host.arrivals.push(Date.now());
    host.maxInFlight = Math.max(host.maxInFlight, ++host.inFlight);
    all.maxInFlight = Math.max(all.maxInFlight, ++all.inFlight);
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      host.inFlight--;
      all.inFlight--;
    };
    res.once('finish', done);
    res.once('close', done);
    respond(req, res, origin, host.arrivals.length - 1);
  });
  for (const url of server.urls) hosts.set(url, { inFlight: 0, maxInFlight: 0, arrivals: [] });
  return { ...server, hosts, all };
}

/** `count` URLs on `origin`. */
const urlsOf = (origin: string, count: number) => Array.from({ length: count }, (_, i) => `${origin}/${i}`);

/** A promise and the function that resolves it: a signal the test gives a server handler. */
function signal(): { released: Promise<void>; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { released, release };
}

/**
 * The asyncScheduler with a clock that stands still during a synchronous run of code: the time a
 * project records at a start is then the very time the queue decided that start by. (Date.now()
 * read in the project can be a millisecond past the queue's `now` when other starts of the same
 * dispatch came first, which would shorten a measured gap.)
 */
function steadyClock(): SchedulerLike {
  let now: number | undefined;
  return {
    now: () => {
      if (now === undefined) {
        now = Date.now();
        queueMicrotask(() => {
          now = undefined;
        });
      }
      return now;
    },
    schedule: asyncScheduler.schedule.bind(asyncScheduler),
  };
}

/** A project that records the queue's clock at each start, by origin. */
function recordingStarts(curl: Curl, clock: SchedulerLike) {
  const starts = new Map<string, number[]>();
  const project = (url: string) =>
    defer(() => {
      const origin = new URL(url).origin;
      starts.set(origin, [...(starts.get(origin) ?? []), clock.now()]);
      return curl.request(url);
    });
  return { starts, project };
}

/** The gaps between consecutive values. */
const gaps = (times: number[]) => times.slice(1).map((time, i) => time - times[i]);

/** What a front end of the queue reports of one request. */
interface Outcome {
  url: string;
  status: number;
}

/**
 * Ten requests on each host, the slow host's first (a queue in arrival order would run nothing
 * else), through a queue of 6 with 2 per host; the slow host answers only once the 40 others are
 * done. `run` puts the URLs through the queue.
 */
async function slowHostHoldsNoOneBack(
  t: ExecutionContext,
  run: (curl: Curl, queue: TransferQueue<string>, urls: string[]) => Observable<Outcome>,
): Promise<void> {
  const slowDone = signal();
  const server = await fiveHosts(t, (_req, res, origin) => {
    if (origin === slow) void slowDone.released.then(() => res.end('slow'));
    else setImmediate(() => res.end('fast'));
  });
  const [slow, ...fast] = server.urls;
  const queue = new TransferQueue<string>({ concurrency: 6, perHost: { concurrency: 2 } });
  let fastDone = 0;
  const allFastDone = signal();
  const urls = [slow, ...fast].flatMap((origin) => urlsOf(origin, 10));
  const all = lastValueFrom(
    run(useCurl(t), queue, urls).pipe(
      tap(({ url }) => {
        if (!url.startsWith(slow) && ++fastDone === 40) allFastDone.release();
      }),
      toArray(),
    ),
  );

  await allFastDone.released;
  // Its two requests could reach the server after the fast ones: wait for them.
  await waitFor(() => server.hosts.get(slow)!.arrivals.length === 2, "the slow host's two requests");
  t.deepEqual(queue.stats().hosts[slow], { queued: 8, active: 2 });
  t.is(server.hosts.get(slow)!.inFlight, 2);
  slowDone.release();
  const outcomes = await all;

  t.is(outcomes.length, 50);
  t.true(outcomes.every(({ status }) => status === 200));
  for (const [origin, host] of server.hosts) {
    t.is(host.arrivals.length, 10, origin);
    t.true(host.maxInFlight <= 2, `${origin} had ${host.maxInFlight} requests at once at the server`);
  }
  t.true(server.all.maxInFlight <= 6, `${server.all.maxInFlight} requests at once at the server`);
  t.like(queue.stats(), { queued: 0, active: 0, done: 50, failed: 0, hosts: {} });
}

test('schedule(): perHost.concurrency holds at the server while the global limit is used by the other hosts; a slow host holds no one back', async (t) => {
  // Items running, counted at the client from the start of a project's Observable to its end.
  let active = 0;
  let maxActive = 0;
  await slowHostHoldsNoOneBack(t, (curl, queue, urls) =>
    from(urls).pipe(
      queue.schedule((url) =>
        defer(() => {
          maxActive = Math.max(maxActive, ++active);
          const end = () => active--;
          return curl.request(url).pipe(
            map((res) => ({ url, status: res.status })),
            tap({ complete: end, error: end, unsubscribe: end }),
          );
        }),
      ),
    ),
  );
  t.is(maxActive, 6, 'the global limit was used');
});

test('requestAll() with a queue: the same limits at the server, and the slow host holds no one back', async (t) => {
  await slowHostHoldsNoOneBack(t, (curl, queue, urls) =>
    curl
      .requestAll(urls, { queue })
      .pipe(map((settled) => ({ url: settled.request as string, status: settled.response?.status ?? 0 }))),
  );
});

test('perHost.minDelayMs: starts of one host at least that far apart on the queue clock; the hosts start together', async (t) => {
  const server = await fiveHosts(t, (_req, res) => res.end('ok'));
  const clock = steadyClock();
  const queue = new TransferQueue<string>({ perHost: { minDelayMs: 100 }, scheduler: clock });
  const { starts, project } = recordingStarts(useCurl(t), clock);
  const began = Date.now();
  const responses = await lastValueFrom(
    from(server.urls.flatMap((origin) => urlsOf(origin, 4))).pipe(queue.schedule(project), toArray()),
  );

  t.is(responses.length, 20);
  t.true(Date.now() - began >= 300, 'four starts of a host take at least three delays');
  const firsts = server.urls.map((origin) => starts.get(origin)![0]);
  t.is(new Set(firsts).size, 1, 'every host started at once');
  for (const origin of server.urls) {
    t.is(starts.get(origin)!.length, 4);
    for (const gap of gaps(starts.get(origin)!)) t.true(gap >= 100, `${origin}: ${gap} ms between starts`);
  }
});

test('perHost.ratePerSecond: starts of one host spaced by 1/rate on the queue clock', async (t) => {
  const server = await fiveHosts(t, (_req, res) => res.end('ok'));
  const clock = steadyClock();
  const queue = new TransferQueue<string>({ perHost: { ratePerSecond: 4 }, scheduler: clock });
  const { starts, project } = recordingStarts(useCurl(t), clock);
  const [a, b] = server.urls;
  const began = Date.now();
  const responses = await lastValueFrom(
    from([...urlsOf(a, 4), ...urlsOf(b, 4)]).pipe(queue.schedule(project), toArray()),
  );

  t.is(responses.length, 8);
  t.true(Date.now() - began >= 750, 'four starts at 4 per second take at least 750 ms');
  for (const origin of [a, b]) {
    t.is(starts.get(origin)!.length, 4);
    for (const gap of gaps(starts.get(origin)!)) t.true(gap >= 250, `${origin}: ${gap} ms between starts`);
  }
});

test('a 429 with Retry-After: 1 pauses its host for at least a second, measured at the server; the others go on', async (t) => {
  let throttledAt = 0;
  const throttled = signal();
  const server = await fiveHosts(t, (_req, res, origin, nth) => {
    if (origin !== paused) {
      // The other hosts' first requests wait for the 429, so they still have work during the pause.
      if (nth === 0) void throttled.released.then(() => res.end('ok'));
      else res.end('ok');
    } else if (nth === 0) {
      res.writeHead(429, { 'retry-after': '1' });
      throttledAt = Date.now();
      res.end();
      throttled.release();
    } else res.end('ok');
  });
  const [paused, ...others] = server.urls;
  const curl = useCurl(t);
  const queue = new TransferQueue<string>({ perHost: { concurrency: 1 } });
  const responses = await lastValueFrom(
    from(server.urls.flatMap((origin) => urlsOf(origin, 3))).pipe(
      queue.schedule((url) => curl.request(url)),
      toArray(),
    ),
  );

  t.deepEqual(responses.map((res) => res.status).sort(), [...Array(14).fill(200), 429]);
  const [, resumed] = server.hosts.get(paused)!.arrivals;
  t.true(
    resumed - throttledAt >= 1000,
    `the paused host's next request came ${resumed - throttledAt} ms after the 429`,
  );
  // Each other host ran its two later requests after the 429, before the paused host resumed.
  for (const origin of others) {
    const arrivals = server.hosts.get(origin)!.arrivals;
    t.true(arrivals[1] >= throttledAt && arrivals[2] <= resumed, `${origin} did not go on during the pause`);
  }
});

test('retry: 503s go back on their host after a doubling backoff, then succeed', async (t) => {
  const refused: number[] = [];
  const server = await fiveHosts(t, (_req, res, origin, nth) => {
    if (origin === flaky && nth < 2) {
      res.statusCode = 503;
      refused.push(Date.now());
    }
    res.end();
  });
  const [flaky, ...others] = server.urls;
  const curl = useCurl(t);
  const queue = new TransferQueue<string>({ retry: { count: 2, baseDelayMs: 100 } });
  const responses = await lastValueFrom(
    from([flaky, ...others.flatMap((origin) => urlsOf(origin, 2))]).pipe(
      queue.schedule((url) => curl.request(url).pipe(ensureOk())),
      toArray(),
    ),
  );

  t.is(responses.length, 9);
  t.true(responses.every((res) => res.status === 200));
  const [, first, second] = server.hosts.get(flaky)!.arrivals;
  // The backoff is a timer on libuv's millisecond clock, which Date.now() can read 1 ms short of.
  t.true(first - refused[0] >= 99, `first retry ${first - refused[0]} ms after the 503`);
  t.true(second - refused[1] >= 199, `second retry ${second - refused[1]} ms after the 503`);
  t.like(queue.stats(), { queued: 0, active: 0, done: 9, failed: 0, retried: 2 });
});

test('unsubscribing mid-run: no transfer left in libcurl, every connection ends at the server, the queue is empty', async (t) => {
  const server = await fiveHosts(t, () => {
    // Never answered: everything the queue started is in flight when the test unsubscribes.
  });
  const curl = useCurl(t);
  const queue = new TransferQueue<string>({ concurrency: 6, perHost: { concurrency: 2 } });
  const subscription = from(server.urls.flatMap((origin) => urlsOf(origin, 4)))
    .pipe(queue.schedule((url) => curl.request(url)))
    .subscribe({ error: (error: unknown) => t.fail(String(error)) });
  await waitFor(() => server.all.inFlight === 6, 'six requests at the server');
  t.like(queue.stats(), { queued: 14, active: 6 });

  subscription.unsubscribe();
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
  t.deepEqual(queue.stats(), { queued: 0, active: 0, done: 0, failed: 0, retried: 0, hosts: {} });
  await waitFor(() => server.sockets.size === 0, 'the server to see every connection end');
  t.is(server.all.inFlight, 0);
});
