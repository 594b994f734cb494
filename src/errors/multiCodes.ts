/**
 * libcurl's CURLMcode values (multi.h), by name: what a call on the multi handle returned. Not a
 * CURLcode: the same numbers mean other things (7 is CURLM_ADDED_ALREADY here, CURLE_COULDNT_CONNECT there).
 */
export const CURLM = {
  CALL_MULTI_PERFORM: -1,
  OK: 0,
  BAD_HANDLE: 1,
  BAD_EASY_HANDLE: 2,
  OUT_OF_MEMORY: 3,
  INTERNAL_ERROR: 4,
  BAD_SOCKET: 5,
  UNKNOWN_OPTION: 6,
  ADDED_ALREADY: 7,
  RECURSIVE_API_CALL: 8,
  WAKEUP_FAILURE: 9,
  BAD_FUNCTION_ARGUMENT: 10,
  ABORTED_BY_CALLBACK: 11,
  UNRECOVERABLE_POLL: 12,
} as const;

const NAMES = new Map<number, string>(Object.entries(CURLM).map(([name, code]) => [code, `CURLM_${name}`]));

/** 'CURLM_…' for a CURLMcode; `CURLM_<n>` for one this table does not know. */
export function multiCodeName(code: number): string {
  return NAMES.get(code) ?? `CURLM_${code}`;
}
