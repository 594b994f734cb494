import type { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import type { HttpVersion } from './httpVersions.js';
import type { SshOptions } from './SshOptions.js';
import type { TlsOptions } from './types.js';

/** The body of a request once validated: bytes known up front, or a stream read as libcurl asks. */
export type NormalizedBody =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'stream'; source: Readable | Observable<Uint8Array>; length: number | undefined };

/** A part of a multipart form once validated; a Blob (from a web FormData) is streamed too. */
export type NormalizedFormPart =
  | { kind: 'value'; name: string; value: string }
  | {
      kind: 'file';
      name: string;
      path: string;
      filename: string | undefined;
      contentType: string | undefined;
    }
  | {
      kind: 'bytes';
      name: string;
      bytes: Uint8Array;
      filename: string | undefined;
      contentType: string | undefined;
    }
  | {
      kind: 'stream';
      name: string;
      source: Readable | Observable<Uint8Array> | Blob;
      size: number | undefined;
      filename: string | undefined;
      contentType: string | undefined;
    };

/**
 * Where a download's body goes when libcurl writes it itself (download()): no JavaScript runs per
 * chunk. `append` continues a partial file (a resumed download); otherwise the file is truncated.
 */
export interface FileSink {
  path: string;
  append: boolean;
}

/**
 * A request after validation and defaults: plain data every driver can read.
 * Produced by `normalizeRequest`; nothing in it still needs checking.
 */
export interface NormalizedRequest {
  url: string;
  method: string;
  /** Header names as given, values without CR or LF. */
  headers: ReadonlyArray<readonly [string, string]>;
  body: NormalizedBody | undefined;
  timeoutMs: number | undefined;
  connectTimeoutMs: number | undefined;
  followRedirects: boolean;
  maxRedirects: number;
  decompress: boolean;
  httpVersion: HttpVersion | undefined;
  /** Comma-separated, as CURLOPT_PROTOCOLS_STR takes them. */
  protocols: string;
  userAgent: string | undefined;
  tls: TlsOptions | undefined;
  /** The proxy URL; '' for none (not even from the environment); undefined lets the environment decide. */
  proxy: string | undefined;
  proxyAuth: { username: string; password: string } | undefined;
  proxyTls: TlsOptions | undefined;
  /** Comma-separated, as CURLOPT_NOPROXY takes them. */
  noProxy: string | undefined;
  auth: { username: string; password: string } | undefined;
  progress: boolean;
  lowSpeed: { bytesPerSecond: number; seconds: number } | undefined;
  maxBodyBytes: number | undefined;
  /** Wait for a connection that can multiplex rather than open another (CURLOPT_PIPEWAIT). */
  pipeWait: boolean;
  signal: AbortSignal | undefined;
  /** A list option's value is a string[] (a curl_slist), its items free of CR, LF and NUL. */
  curlOptions: ReadonlyArray<readonly [string, string | number | boolean | readonly string[]]>;
  /** CURLOPT_RESOLVE entries, checked; undefined for none. */
  resolve: readonly string[] | undefined;
  /** CURLOPT_CONNECT_TO entries, checked; undefined for none. */
  connectTo: readonly string[] | undefined;
  unixSocket: string | undefined;
  pinnedPublicKey: string | undefined;
  /** 0 or undefined: no cap. */
  maxRecvBytesPerSecond: number | undefined;
  /** 0 or undefined: no cap. */
  maxSendBytesPerSecond: number | undefined;
  /** The body is written to this file by libcurl, not reported as data; set by download() only. */
  sink?: FileSink;
  /** FTP, SFTP, SCP: a PUT uploads (CURLOPT_UPLOAD), its body a stream read through the read callback. */
  upload?: boolean;
  /** SSH keys and host-key checking; set whenever sftp or scp may be reached (the URL or `protocols`). */
  ssh?: SshOptions;
  /** A multipart/form-data body (CURLOPT_MIMEPOST); never with `body`. */
  form?: readonly NormalizedFormPart[];
}
