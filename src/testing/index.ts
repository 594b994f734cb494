/**
 * rxcurl/testing: the same engine with a scripted transport in virtual time, to marble-test
 * pipelines without a network. Start with {@link createTestCurl}.
 *
 * @example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { createTestCurl } from 'rxcurl/testing';
 * ```
 *
 * @module rxcurl/testing
 */
export { createTestCurl, TestCurl } from './createTestCurl.js';
export type {
  ActionRecord,
  RouteMatcher,
  RouteScript,
  ScriptedResponse,
  SentRequest,
  WatchRecord,
} from './ScriptedDriver.js';
export { ScriptedDriver } from './ScriptedDriver.js';
