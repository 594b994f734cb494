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
