/**
 * This package's version; a test keeps it equal to package.json's.
 *
 * @example
 * ```ts
 * console.log(`rxcurl ${RXCURL_VERSION}, libcurl ${Curl.version.libcurl}`);
 * ```
 */
export const RXCURL_VERSION = '0.1.0';
