import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { Curl } from '../api/Curl.js';
import type { CurlOptions } from '../api/CurlOptions.js';
import type { RouteMatcher, RouteScript, SentRequest } from './RouteTable.js';
import { ScriptedDriver } from './ScriptedDriver.js';

/**
 * A Curl whose transport is scripted: the same engine and API as the real one, with routes in
 * place of servers and the given scheduler's (virtual) time in place of the clock.
 *
 * @example
 * ```ts
 * const curl: TestCurl = createTestCurl({ scheduler });
 * curl.route('GET http://api.test/a', of({ status: 200, body: 'hi' }));
 * ```
 */
export class TestCurl extends Curl {
  private readonly driver: ScriptedDriver;

  constructor(options: CurlOptions & { scheduler?: SchedulerLike } = {}) {
    const driver = new ScriptedDriver(options.scheduler ?? asyncScheduler);
    super(options, driver);
    this.driver = driver;
  }

  /**
   * Answers requests that match `matcher` ('METHOD URL', a URL, a RegExp or a predicate) with
   * `script`: an Observable of responses ({ status, headers?, body? } or { error: CURLcode }), or
   * a function of the request returning one. Routes are tried in the order they were added.
   */
  route(matcher: RouteMatcher, script: RouteScript): this {
    this.driver.route(matcher, script);
    return this;
  }

  /** Every request sent, in order. */
  get requests(): readonly SentRequest[] {
    return this.driver.requests;
  }
}

/**
 * A Curl for tests: scripted routes, virtual time from `scheduler` (pass the TestScheduler).
 *
 * @example
 * ```ts
 * const scheduler = new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
 * scheduler.run(({ cold, expectObservable }) => {
 *   const curl = createTestCurl({ scheduler });
 *   curl.route('GET http://example.test/a', cold('--r|', { r: { status: 200, body: 'hi' } }));
 *   expectObservable(curl.request('http://example.test/a').pipe(map((r) => r.text()))).toBe('--(a|)', { a: 'hi' });
 * });
 * ```
 */
export function createTestCurl(options: CurlOptions & { scheduler?: SchedulerLike } = {}): TestCurl {
  return new TestCurl(options);
}
