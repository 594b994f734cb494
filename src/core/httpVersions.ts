/**
 * The HTTP version a request asks for; `'2-prior-knowledge'` is HTTP/2 without upgrade (h2c).
 *
 * @example
 * ```ts
 * curl.request({ url: 'https://example.com/', httpVersion: '2' });
 * ```
 */
export type HttpVersion = '1.0' | '1.1' | '2' | '2-prior-knowledge' | '3';

/**
 * libcurl's CURL_HTTP_VERSION_* number of each version a request can ask for: the one table that
 * validation, the easy options and the decoding of CURLINFO_HTTP_VERSION read.
 */
export const HTTP_VERSIONS = {
  '1.0': 1,
  '1.1': 2,
  '2': 3,
  '2-prior-knowledge': 5,
  '3': 30,
} as const satisfies Record<HttpVersion, number>;

const CURL_HTTP_VERSION_2TLS = 4;

/** The name of the version CURLINFO_HTTP_VERSION reports: '1.0', '1.1', '2', '3', or '' for none. */
export function httpVersionName(version: number): string {
  if (version === CURL_HTTP_VERSION_2TLS || version === HTTP_VERSIONS['2-prior-knowledge']) return '2';
  for (const name of ['1.0', '1.1', '2', '3'] as const) if (HTTP_VERSIONS[name] === version) return name;
  return '';
}

export function isHttpVersion(value: unknown): value is HttpVersion {
  return typeof value === 'string' && Object.hasOwn(HTTP_VERSIONS, value);
}
