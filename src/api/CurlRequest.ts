import type { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import type { HttpVersion } from '../core/httpVersions.js';
import type { SshOptions } from '../core/SshOptions.js';
import type { TlsOptions } from '../core/types.js';
import type { FormPart } from './FormPart.js';

/**
 * What a request can send: bytes or text at once, or a `Readable` or an Observable streamed.
 *
 * @example
 * ```ts
 * curl.request({ url, method: 'PUT', body: createReadStream('big.iso') });  // streamed
 * curl.request({ url, body: new URLSearchParams({ q: 'rxcurl' }) });        // a form
 * ```
 */
export type RequestBody = string | Uint8Array | Readable | Observable<Uint8Array> | URLSearchParams;

/**
 * One request, as users write it. Every field but `url` is optional.
 *
 * @example
 * ```ts
 * const req: CurlRequest = {
 *   url: 'https://example.com/api/items',
 *   json: { name: 'rxcurl' },
 *   headers: { authorization: `Bearer ${token}` },
 *   timeoutMs: 5000,
 * };
 * curl.request(req).pipe(ensureOk()).subscribe((res) => console.log(res.status));
 * ```
 */
export interface CurlRequest {
  /** The URL; its scheme must be one of `protocols`. */
  url: string;
  /** Default GET, or POST when a body is given. */
  method?: string;
  /** Request headers, as a record (an array repeats the header) or as name/value pairs. */
  headers?: Record<string, string | string[]> | Iterable<[string, string]>;
  /** The request body; see {@link RequestBody}. */
  body?: RequestBody;
  /** Serialised as JSON, with content-type application/json. */
  json?: unknown;
  /** The whole transfer (CURLOPT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** The connection phase only (CURLOPT_CONNECTTIMEOUT_MS). */
  connectTimeoutMs?: number;
  /** Default true. */
  followRedirects?: boolean;
  /** Default 10. */
  maxRedirects?: number;
  /** Default true: ask for every encoding libcurl can decode and decode it. */
  decompress?: boolean;
  /** The HTTP version to ask for; default libcurl's choice. */
  httpVersion?: HttpVersion;
  /** TLS verification and client certificates. */
  tls?: TlsOptions;
  /**
   * The proxy: a URL (`http://`, `https://`, `socks4://`, `socks4a://`, `socks5://`, `socks5h://`),
   * `false` for none whatever the environment says, or {@link ProxyOptions} with credentials, TLS
   * and hosts to reach directly. Unset, the environment decides as it does for curl: `http_proxy`
   * (lower case only), `HTTPS_PROXY`/`https_proxy`, `ALL_PROXY`, `NO_PROXY`.
   */
  proxy?: string | false | ProxyOptions;
  /** HTTP authentication. */
  auth?: {
    /** The user name. */
    username: string;
    /** The password. */
    password: string;
  };
  /**
   * Allowed schemes, also on redirects. Default ['http', 'https']; other protocols are opt-in
   * (`['ftp']`, `['sftp']`…). On FTP, SFTP and SCP, `method: 'PUT'` uploads the body and a URL
   * ending in `/` lists the directory.
   */
  protocols?: string[];
  /** Emit progress events: at most one per 100 ms, and a final one before `done`. */
  progress?: boolean;
  /** Default 'rxcurl/<version> libcurl/<version>'. */
  userAgent?: string;
  /** Abort when slower than this for that long. */
  lowSpeed?: {
    /** The lowest acceptable average speed… */
    bytesPerSecond: number;
    /** …over this many seconds. */
    seconds: number;
  };
  /** Abort a response body larger than this. */
  maxBodyBytes?: number;
  /** download() only: continue a partial file with a range request. */
  resume?: boolean;
  /** Aborting errors the transfer with code 'ABORTED'. */
  signal?: AbortSignal;
  /**
   * Escape hatch: libcurl options by CURLOPT_ name without the prefix. A list option (RESOLVE,
   * CONNECT_TO, QUOTE, MAIL_RCPT, HTTP200ALIASES, PROXYHEADER…) takes a `string[]`, passed as a
   * curl_slist; its items must not contain CR, LF or NUL.
   */
  curlOptions?: Record<string, string | number | boolean | string[]>;
  /**
   * Addresses of your own for host names, before any DNS (CURLOPT_RESOLVE):
   * 'host:port:address[,address…]', '+host:port:address…' for an entry that expires, or
   * '-host:port' to remove one. Entries go into the DNS cache that the transfers of a Curl share,
   * and stay there for its later requests too.
   */
  resolve?: string[];
  /**
   * Connect somewhere else than the URL says, keeping its host name for the Host header, SNI and
   * certificate checks (CURLOPT_CONNECT_TO): 'host:port:connect-host:connect-port', where an empty
   * part matches any host or port (or keeps the same one).
   */
  connectTo?: string[];
  /** Connect through this Unix domain socket instead of TCP; the URL still gives the Host header (CURLOPT_UNIX_SOCKET_PATH). */
  unixSocket?: string;
  /**
   * The server's public key must match (CURLOPT_PINNEDPUBLICKEY): 'sha256//<base64>' pins joined
   * by ';', or the path of a PEM or DER public key file. A mismatch fails with code 90
   * (CURLE_SSL_PINNEDPUBKEYNOTMATCH).
   */
  pinnedPublicKey?: string;
  /** Cap the average download speed, in bytes per second; 0 for no cap (CURLOPT_MAX_RECV_SPEED_LARGE). */
  maxRecvBytesPerSecond?: number;
  /** Cap the average upload speed, in bytes per second; 0 for no cap (CURLOPT_MAX_SEND_SPEED_LARGE). */
  maxSendBytesPerSecond?: number;
  /** SFTP and SCP: key files and host-key checking; see {@link SshOptions}. */
  ssh?: SshOptions;
  /**
   * A multipart/form-data body, built with libcurl's mime API: {@link FormPart}s, or a web
   * `FormData` (its File and Blob entries are streamed). Not with `body` or `json`.
   */
  form?: FormData | FormPart[];
}

/**
 * A proxy with its credentials, its own TLS settings (for an `https://` proxy) and the hosts
 * reached without it.
 *
 * @example
 * ```ts
 * curl.request({
 *   url: 'https://example.com/',
 *   proxy: {
 *     url: 'https://proxy.internal:3129',
 *     auth: { username: 'me', password: process.env.PROXY_PASSWORD! },
 *     tls: { caFile: '/etc/ssl/proxy-ca.pem' },
 *     noProxy: ['localhost', '.internal.example'],
 *   },
 * });
 * ```
 */
export interface ProxyOptions {
  /** The proxy's URL; its scheme says how to talk to it (http, https, socks4, socks4a, socks5, socks5h). */
  url: string;
  /** Credentials for the proxy (Proxy-Authorization, or the SOCKS5 user and password). */
  auth?: {
    /** The user name. */
    username: string;
    /** The password. */
    password: string;
  };
  /** TLS with an `https://` proxy: verification and certificates, as `tls` is for the server. */
  tls?: TlsOptions;
  /** Hosts reached directly: names (a leading dot matches subdomains), addresses, or `*` for all. */
  noProxy?: string[];
}
