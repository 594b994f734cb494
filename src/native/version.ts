import koffi from 'koffi';
import { RXCURL_VERSION } from '../version.js';
import {
  CURL_VERSION_ASYNCHDNS,
  CURL_VERSION_BROTLI,
  CURL_VERSION_HTTP2,
  CURL_VERSION_HTTP3,
  CURL_VERSION_LIBZ,
  CURL_VERSION_SSL,
  CURL_VERSION_ZSTD,
  CURLVERSION_NOW,
} from './constants.js';
import { CurlVersionInfoStruct, type Libcurl, type Pointer } from './libcurl.js';

/**
 * The loaded libcurl, from curl_version_info.
 *
 * @example
 * ```ts
 * if (!Curl.version.features.http2) console.warn(`libcurl ${Curl.version.libcurl} has no HTTP/2`);
 * ```
 */
export interface LibcurlVersion {
  /** e.g. '7.88.1'. */
  libcurl: string;
  /** e.g. 'OpenSSL/3.0.19'; '' without TLS. */
  ssl: string;
  /** The URL schemes this libcurl speaks: 'http', 'https', 'ftp', … */
  protocols: string[];
  /** What this libcurl was built with. */
  features: {
    /** HTTP/2 (nghttp2): httpVersion '2' and '2-prior-knowledge'. */
    http2: boolean;
    /** HTTP/3: httpVersion '3'. */
    http3: boolean;
    /** TLS: https. */
    ssl: boolean;
    /** gzip and deflate decoding. */
    libz: boolean;
    /** br decoding. */
    brotli: boolean;
    /** zstd decoding. */
    zstd: boolean;
    /** Name resolution that does not block (threaded or c-ares). */
    asynchDns: boolean;
  };
}

const versions = new WeakMap<Libcurl, LibcurlVersion>();

export function libcurlVersion(lib: Libcurl): LibcurlVersion {
  let version = versions.get(lib);
  if (version) return version;
  const info = koffi.decode(lib.version_info(CURLVERSION_NOW), CurlVersionInfoStruct) as {
    version: string;
    features: number;
    ssl_version: string | null;
    protocols: Pointer;
  };
  const protocols: string[] = [];
  for (let i = 0; ; i++) {
    const name = koffi.decode(info.protocols, i * koffi.sizeof('void *'), 'const char *') as string | null;
    if (!name) break;
    protocols.push(name);
  }
  const has = (bit: number) => (info.features & bit) !== 0;
  version = {
    libcurl: info.version,
    ssl: info.ssl_version ?? '',
    protocols,
    features: {
      http2: has(CURL_VERSION_HTTP2),
      http3: has(CURL_VERSION_HTTP3),
      ssl: has(CURL_VERSION_SSL),
      libz: has(CURL_VERSION_LIBZ),
      brotli: has(CURL_VERSION_BROTLI),
      zstd: has(CURL_VERSION_ZSTD),
      asynchDns: has(CURL_VERSION_ASYNCHDNS),
    },
  };
  versions.set(lib, version);
  return version;
}

/**
 * Whether libcurl of version `libcurl` ('7.88.1') can stall an FTP transfer for good when its DO
 * phase ends within one call, as on a reused control connection whose EPSV reply is already there
 * when libcurl polls right after sending it: before 8.4.0, multi_runsingle then moves to DOING_MORE
 * without running the transfer again, and with the data connection not started yet, a multi_socket
 * user is asked for no socket and no timer (curl commit 6dd6654f, curl/curl#12042).
 */
export function stallsFtpDoMore(libcurl: string): boolean {
  const [major = 0, minor = 0] = libcurl.split('.').map((part) => Number.parseInt(part, 10));
  return major < 8 || (major === 8 && minor < 4);
}

export function userAgent(lib: Libcurl): string {
  return `rxcurl/${RXCURL_VERSION} libcurl/${libcurlVersion(lib).libcurl}`;
}
