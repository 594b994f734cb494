// The values, in curl.h's order and with its names.
const CODES = {
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

// A mapped type, so that the API reference shows the table as one value, not a hundred members.
/**
 * libcurl's CURLMcode values (multi.h), by name without the `CURLM_` prefix: what a call on the
 * multi handle returned, as in `CurlMultiError.multiCode`. Not a CURLcode: the same numbers mean
 * other things (7 is CURLM_ADDED_ALREADY here, CURLE_COULDNT_CONNECT there).
 *
 * @example
 * ```ts
 * if (error instanceof CurlMultiError && error.multiCode === CURLM.OUT_OF_MEMORY) process.exit(1);
 * ```
 */
export const CURLM: { readonly [name in keyof typeof CODES]: number } = CODES;

const NAMES = new Map<number, string>(Object.entries(CURLM).map(([name, code]) => [code, `CURLM_${name}`]));

/**
 * The name of a CURLMcode: 'CURLM_…', or `CURLM_<n>` for one this table does not know.
 *
 * @example
 * ```ts
 * multiCodeName(7); // 'CURLM_ADDED_ALREADY'
 * ```
 */
export function multiCodeName(code: number): string {
  return NAMES.get(code) ?? `CURLM_${code}`;
}
