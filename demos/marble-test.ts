/**
 * The testing kit in use: a pipeline written against `Curl` is marble-tested with `createTestCurl`
 * from `rxcurl/testing` and RxJS's TestScheduler — no network, no waiting: 33 ms of backoff run in
 * no time. (In this repository it is imported from src/testing; users write `rxcurl/testing`.)
 *
 * The pipeline under test, `latestPrices`, fetches a price per symbol, two at a time, retries
 * 503s with backoff and gives up on a symbol after a 2 s timeout. Each scenario prints its
 * marble diagram; the demo exits 1 if one of them does not hold.
 *
 *   npm run demo:marbles
 */
import { deepStrictEqual } from 'node:assert';
import { catchError, from, map, mergeMap, of, type SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { type Curl, ensureOk, retryTransient } from '../src/index.js';
import { createTestCurl } from '../src/testing/index.js';

// --- the code under test: what an application would have ------------------------------------------
type Transferring = Pick<Curl, 'request'>;

function latestPrices(curl: Transferring, symbols: string[], scheduler?: SchedulerLike) {
  return from(symbols).pipe(
    mergeMap(
      (symbol) =>
        curl.request({ url: `http://prices.test/${symbol}`, timeoutMs: 2000 }).pipe(
          ensureOk(),
          retryTransient({ count: 2, baseDelayMs: 10, maxDelayMs: 100, ...(scheduler ? { scheduler } : {}) }),
          map((response) => `${symbol}=${response.text()}`),
          catchError((error: Error & { codeName?: string }) =>
            of(`${symbol}:${error.codeName ?? error.message}`),
          ),
        ),
      2,
    ),
  );
}

// --- the scenarios: routes, the pipeline, and the marble diagram it must produce ---------------
type Helpers = Parameters<Parameters<TestScheduler['run']>[0]>[0];
let failures = 0;

function scenario(
  name: string,
  setup: (curl: ReturnType<typeof createTestCurl>, helpers: Helpers) => string[],
  marbles: string,
  values: Record<string, string>,
): void {
  const scheduler = new TestScheduler((actual, expected) => deepStrictEqual(actual, expected));
  try {
    scheduler.run((helpers) => {
      const curl = createTestCurl({ scheduler });
      const symbols = setup(curl, helpers);
      helpers.expectObservable(latestPrices(curl, symbols, scheduler)).toBe(marbles, values);
    });
    console.log(`✓ ${name}\n    '${marbles}'  ${JSON.stringify(values)}`);
  } catch (error) {
    failures++;
    console.log(`✗ ${name}\n${(error as Error).message}`);
  }
}

scenario(
  'two at a time: CCC starts at 5 ms, when AAA frees a slot',
  (curl, { cold }) => {
    const delays: Record<string, string> = { AAA: '5ms r', BBB: '9ms r', CCC: '4ms r' };
    curl.route(/prices\.test/, (req) => cold(delays[req.url.slice(-3)], { r: { status: 200, body: '1' } }));
    return ['AAA', 'BBB', 'CCC'];
  },
  '5ms a 3ms (bc|)',
  { a: 'AAA=1', b: 'BBB=1', c: 'CCC=1' },
);

scenario(
  'a 503 is retried after 10 ms, then after 20 ms',
  (curl, { cold }) => {
    let attempt = 0;
    curl.route('GET http://prices.test/AAA', () =>
      cold('-r', { r: ++attempt < 3 ? { status: 503 } : { status: 200, body: '42' } }),
    );
    return ['AAA'];
  },
  '33ms (a|)',
  { a: 'AAA=42' },
);

scenario(
  'a server that never answers: three attempts time out at 2 s each (a timeout is transient)',
  (curl, { cold }) => {
    curl.route('GET http://prices.test/AAA', cold('-'));
    return ['AAA'];
  },
  '6030ms (a|)',
  { a: 'AAA:CURLE_OPERATION_TIMEDOUT' },
);

scenario('an unrouted request fails like a refused connection, also retried', () => ['ZZZ'], '30ms (a|)', {
  a: 'ZZZ:CURLE_COULDNT_CONNECT',
});

console.log(failures === 0 ? 'all scenarios hold' : `${failures} scenario(s) failed`);
process.exitCode = failures === 0 ? 0 : 1;
