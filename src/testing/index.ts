/**
 * rxcurl/testing: the same engine with a scripted transport in virtual time, to marble-test
 * pipelines without a network. Start with {@link createTestCurl}. It never loads libcurl or koffi.
 *
 * @example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { createTestCurl } from 'rxcurl/testing';
 * ```
 *
 * @module rxcurl/testing
 */
export { TRANSFER_CHANNELS } from '../core/diagnostics.js';
export { CURLE } from '../errors/curlCodes.js';
export { createTestCurl, TestCurl } from './createTestCurl.js';
export type { RouteMatcher, RouteScript, ScriptedResponse, SentFormPart, SentRequest } from './RouteTable.js';
export { ScriptedDriver } from './ScriptedDriver.js';
