import koffi from 'koffi';
import { HTTP_VERSIONS } from '../core/httpVersions.js';
import type { NormalizedRequest } from '../core/NormalizedRequest.js';
import type { TlsOptions } from '../core/types.js';
import { CurlError } from '../errors/CurlError.js';
import {
  CURLAUTH_BASIC,
  CURLOPT,
  CURLOT_BLOB,
  CURLOT_LONG,
  CURLOT_OFF_T,
  CURLOT_SLIST,
  CURLOT_STRING,
  CURLOT_VALUES,
} from './constants.js';
import { CurlEasyOptionStruct, type Handle, type Libcurl } from './libcurl.js';

/** libcurl's receive buffer; its 16 KiB default costs ~40 % on large bodies. */
export const RECEIVE_BUFFER_BYTES = 102400;
/** The smallest receive buffer libcurl takes (CURL_MIN_BUFFERSIZE). */
const MIN_RECEIVE_BUFFER_BYTES = 1024;

/**
 * A value for curl_easy_setopt; the option's number range says how it is passed. A list is set
 * as a curl_slist that the easy handle's slot owns (OptionLists).
 */
export type OptionValue = number | string | Uint8Array | readonly string[] | null;

/**
 * The options one request needs, in a fixed order, so that a pooled easy handle that ran a
 * request of the same shape only needs the values that changed. Each easy handle keeps two and
 * fills them in turn, so compiling a request allocates nothing once they have grown.
 */
export class EasyOptions {
  // Written by index up to `length` and never shortened: setting an array's length to 0 lets V8
  // drop its storage, which the next request would allocate again.
  readonly ids: number[] = [];
  readonly values: OptionValue[] = [];
  /** Names for error messages: the request field each option came from. */
  readonly fields: string[] = [];
  length = 0;
  url = '';

  set(field: string, id: number, value: OptionValue): void {
    const i = this.length++;
    this.ids[i] = id;
    this.values[i] = value;
    this.fields[i] = field;
  }

  /** Like `set`, but an option already set (by a typed field) takes this value in its place: the last one wins. */
  override(field: string, id: number, value: OptionValue): void {
    const i = this.ids.indexOf(id);
    if (i < 0 || i >= this.length) {
      this.set(field, id, value);
    } else {
      this.values[i] = value;
      this.fields[i] = field;
    }
  }

  clear(): void {
    // No reference kept to an earlier request's values (a body can be large).
    for (let i = 0; i < this.length; i++) this.values[i] = null;
    this.length = 0;
    this.url = '';
  }

  /** Forgets the value of option `id`, so that the next request of this shape sets it again. */
  forget(id: number): void {
    const i = this.ids.indexOf(id);
    if (i >= 0 && i < this.length) this.values[i] = null;
  }

  /** The same options in the same order, whatever their values. */
  sameShape(other: EasyOptions): boolean {
    const { ids, length } = this;
    if (other.length !== length) return false;
    for (let i = 0; i < length; i++) if (other.ids[i] !== ids[i]) return false;
    return true;
  }
}

/** Option numbers are grouped by how their value is passed (curl.h: CURLOPTTYPE_*). */
export function setOption(lib: Libcurl, easy: Handle, id: number, value: OptionValue): number {
  if (id < 10000) return lib.easy_setopt.long(easy, id, value as number);
  if (id < 20000) {
    return typeof value === 'string' || value === null
      ? lib.easy_setopt.string(easy, id, value)
      : lib.easy_setopt.pointer(easy, id, value as number);
  }
  if (id < 30000) return lib.easy_setopt.pointer(easy, id, value as number);
  if (id < 40000) return lib.easy_setopt.offT(easy, id, value as number);
  const bytes = value as Uint8Array;
  return lib.easy_setopt.blob(easy, id, {
    data: bytes,
    len: bytes.byteLength,
    flags: 1 /* CURL_BLOB_COPY */,
  });
}

/** Two lists with the same items: a pooled handle keeps its curl_slist rather than build it again. */
export function sameList(a: OptionValue | undefined, b: OptionValue): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function pem(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value) : value;
}

/** The options of one TLS peer: the server, or an https:// proxy. */
interface TlsOptionIds {
  verifyPeer: number;
  verifyHost: number;
  caBlob: number;
  caFile: number;
  certBlob: number;
  certFile: number;
  keyBlob: number;
  keyFile: number;
}

const SERVER_TLS: TlsOptionIds = {
  verifyPeer: CURLOPT.SSL_VERIFYPEER,
  verifyHost: CURLOPT.SSL_VERIFYHOST,
  caBlob: CURLOPT.CAINFO_BLOB,
  caFile: CURLOPT.CAINFO,
  certBlob: CURLOPT.SSLCERT_BLOB,
  certFile: CURLOPT.SSLCERT,
  keyBlob: CURLOPT.SSLKEY_BLOB,
  keyFile: CURLOPT.SSLKEY,
};

const PROXY_TLS: TlsOptionIds = {
  verifyPeer: CURLOPT.PROXY_SSL_VERIFYPEER,
  verifyHost: CURLOPT.PROXY_SSL_VERIFYHOST,
  caBlob: CURLOPT.PROXY_CAINFO_BLOB,
  caFile: CURLOPT.PROXY_CAINFO,
  certBlob: CURLOPT.PROXY_SSLCERT_BLOB,
  certFile: CURLOPT.PROXY_SSLCERT,
  keyBlob: CURLOPT.PROXY_SSLKEY_BLOB,
  keyFile: CURLOPT.PROXY_SSLKEY,
};

function setTls(into: EasyOptions, tls: TlsOptions, field: string, ids: TlsOptionIds): void {
  if (tls.insecure) {
    into.set(`${field}.insecure`, ids.verifyPeer, 0);
    into.set(`${field}.insecure`, ids.verifyHost, 0);
  }
  if (tls.ca !== undefined) into.set(`${field}.ca`, ids.caBlob, pem(tls.ca));
  if (tls.caFile !== undefined) into.set(`${field}.caFile`, ids.caFile, tls.caFile);
  if (tls.cert !== undefined) into.set(`${field}.cert`, ids.certBlob, pem(tls.cert));
  if (tls.certFile !== undefined) into.set(`${field}.certFile`, ids.certFile, tls.certFile);
  if (tls.key !== undefined) into.set(`${field}.key`, ids.keyBlob, pem(tls.key));
  if (tls.keyFile !== undefined) into.set(`${field}.keyFile`, ids.keyFile, tls.keyFile);
}

/**
 * Compiles a validated request into libcurl options, into `into` (cleared first). `headerList` is
 * the curl_slist for its headers (0 for none), `mime` the curl_mime of its form (0 for none), both
 * built and owned by the caller. Throws INVALID_INPUT
 * for curlOptions that libcurl does not know or that cannot be set from a plain value.
 */
export function compileOptions(
  lib: Libcurl,
  req: NormalizedRequest,
  headerList: Handle,
  userAgent: string,
  into: EasyOptions,
  mime: Handle = 0,
): EasyOptions {
  into.clear();
  into.url = req.url;

  into.set('url', CURLOPT.URL, req.url);
  const { method, body } = req;
  if (method === 'HEAD') into.set('method', CURLOPT.NOBODY, 1);
  else if (req.upload) into.set('method', CURLOPT.UPLOAD, 1);
  else if (body || mime !== 0) {
    into.set('method', CURLOPT.POST, 1);
    if (method !== 'POST') into.set('method', CURLOPT.CUSTOMREQUEST, method);
  } else if (method !== 'GET') into.set('method', CURLOPT.CUSTOMREQUEST, method);
  if (body?.kind === 'bytes') {
    into.set('body', CURLOPT.POSTFIELDSIZE_LARGE, body.bytes.byteLength);
    into.set('body', CURLOPT.COPYPOSTFIELDS, body.bytes.byteLength === 0 ? '' : body.bytes);
  } else if (body?.kind === 'stream') {
    // Read through CURLOPT_READFUNCTION; an unknown length goes as chunks over HTTP/1.1.
    const size = req.upload ? CURLOPT.INFILESIZE_LARGE : CURLOPT.POSTFIELDSIZE_LARGE;
    into.set('body', size, body.length ?? -1);
  }
  if (mime !== 0) into.set('form', CURLOPT.MIMEPOST, mime);
  if (req.progress) into.set('progress', CURLOPT.NOPROGRESS, 0);
  if (headerList !== 0) into.set('headers', CURLOPT.HTTPHEADER, headerList);
  if (req.timeoutMs !== undefined) into.set('timeoutMs', CURLOPT.TIMEOUT_MS, req.timeoutMs);
  if (req.connectTimeoutMs !== undefined)
    into.set('connectTimeoutMs', CURLOPT.CONNECTTIMEOUT_MS, req.connectTimeoutMs);
  if (req.followRedirects) {
    into.set('followRedirects', CURLOPT.FOLLOWLOCATION, 1);
    into.set('maxRedirects', CURLOPT.MAXREDIRS, req.maxRedirects);
  }
  if (req.decompress) into.set('decompress', CURLOPT.ACCEPT_ENCODING, '');
  into.set('protocols', CURLOPT.PROTOCOLS_STR, req.protocols);
  into.set('protocols', CURLOPT.REDIR_PROTOCOLS_STR, req.protocols);
  into.set('userAgent', CURLOPT.USERAGENT, req.userAgent ?? userAgent);
  if (req.httpVersion) into.set('httpVersion', CURLOPT.HTTP_VERSION, HTTP_VERSIONS[req.httpVersion]);
  if (req.pipeWait) into.set('httpVersion', CURLOPT.PIPEWAIT, 1);
  if (req.tls) setTls(into, req.tls, 'tls', SERVER_TLS);
  if (req.proxy !== undefined) into.set('proxy', CURLOPT.PROXY, req.proxy);
  if (req.proxyAuth) {
    into.set('proxy.auth', CURLOPT.PROXYUSERNAME, req.proxyAuth.username);
    into.set('proxy.auth', CURLOPT.PROXYPASSWORD, req.proxyAuth.password);
  }
  if (req.noProxy !== undefined) into.set('proxy.noProxy', CURLOPT.NOPROXY, req.noProxy);
  if (req.proxyTls) setTls(into, req.proxyTls, 'proxy.tls', PROXY_TLS);
  if (req.auth) {
    into.set('auth', CURLOPT.USERNAME, req.auth.username);
    into.set('auth', CURLOPT.PASSWORD, req.auth.password);
    into.set('auth', CURLOPT.HTTPAUTH, CURLAUTH_BASIC);
  }
  if (req.lowSpeed) {
    into.set('lowSpeed', CURLOPT.LOW_SPEED_LIMIT, req.lowSpeed.bytesPerSecond);
    into.set('lowSpeed', CURLOPT.LOW_SPEED_TIME, req.lowSpeed.seconds);
  }
  if (req.maxBodyBytes !== undefined) into.set('maxBodyBytes', CURLOPT.MAXFILESIZE_LARGE, req.maxBodyBytes);
  if (req.resolve) into.set('resolve', CURLOPT.RESOLVE, req.resolve);
  if (req.connectTo) into.set('connectTo', CURLOPT.CONNECT_TO, req.connectTo);
  if (req.unixSocket !== undefined) into.set('unixSocket', CURLOPT.UNIX_SOCKET_PATH, req.unixSocket);
  if (req.pinnedPublicKey !== undefined)
    into.set('pinnedPublicKey', CURLOPT.PINNEDPUBLICKEY, req.pinnedPublicKey);
  const recvCap = req.maxRecvBytesPerSecond;
  if (recvCap) {
    into.set('maxRecvBytesPerSecond', CURLOPT.MAX_RECV_SPEED_LARGE, recvCap);
    // libcurl (7.88) checks the cap, then reads up to 100 buffers in a row while the socket has
    // more: a 100 KiB buffer lets 10 MB through at once. A buffer of a thousandth of the cap keeps
    // each burst to about 0.1 s of it, so the cap holds on bodies of a few seconds too.
    const buffer = Math.max(MIN_RECEIVE_BUFFER_BYTES, Math.floor(recvCap / 1000));
    if (buffer < RECEIVE_BUFFER_BYTES) into.set('maxRecvBytesPerSecond', CURLOPT.BUFFERSIZE, buffer);
  }
  if (req.maxSendBytesPerSecond)
    into.set('maxSendBytesPerSecond', CURLOPT.MAX_SEND_SPEED_LARGE, req.maxSendBytesPerSecond);
  const { ssh } = req;
  if (ssh) {
    if (ssh.privateKeyFile !== undefined)
      into.set('ssh.privateKeyFile', CURLOPT.SSH_PRIVATE_KEYFILE, ssh.privateKeyFile);
    if (ssh.publicKeyFile !== undefined)
      into.set('ssh.publicKeyFile', CURLOPT.SSH_PUBLIC_KEYFILE, ssh.publicKeyFile);
    if (ssh.knownHostsFile !== undefined)
      into.set('ssh.knownHostsFile', CURLOPT.SSH_KNOWNHOSTS, ssh.knownHostsFile);
    if (ssh.hostPublicKeySha256 !== undefined)
      into.set('ssh.hostPublicKeySha256', CURLOPT.SSH_HOST_PUBLIC_KEY_SHA256, ssh.hostPublicKeySha256);
  }
  for (const [name, value] of req.curlOptions) {
    const field = `curlOptions.${name}`;
    const option = findOption(lib, name, field, req.url);
    // One entry per option: a pooled handle skips unchanged values, so a second entry with the same
    // id would let the first one's value win on the next request of this shape.
    into.override(field, option.id, optionValue(option.type, value, field, req.url));
  }
  return into;
}

interface EasyOptionInfo {
  id: number;
  type: number;
}

const optionCache = new Map<string, EasyOptionInfo | null>();

function findOption(lib: Libcurl, name: string, field: string, url: string): EasyOptionInfo {
  const key = name.toUpperCase();
  let info = optionCache.get(key);
  if (info === undefined) {
    const ptr = /^[A-Z0-9_]+$/.test(key) ? lib.easy_option_by_name(key) : null;
    info = ptr ? (koffi.decode(ptr, CurlEasyOptionStruct) as EasyOptionInfo) : null;
    optionCache.set(key, info);
  }
  if (!info) throw CurlError.invalidInput(field, `is not a libcurl option (CURLOPT_${key})`, url);
  return info;
}

function optionValue(
  type: number,
  value: string | number | boolean | readonly string[],
  field: string,
  url: string,
): OptionValue {
  // A list's items were checked by normalizeRequest; whether the option takes one is known only here.
  if (Array.isArray(value) && type !== CURLOT_SLIST)
    throw CurlError.invalidInput(field, 'is not a list option: it takes no string[]', url);
  switch (type) {
    case CURLOT_SLIST:
      if (Array.isArray(value)) return value;
      throw CurlError.invalidInput(field, `takes a list: give a string[], got ${JSON.stringify(value)}`, url);
    case CURLOT_LONG:
    case CURLOT_VALUES:
    case CURLOT_OFF_T:
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      throw CurlError.invalidInput(
        field,
        `must be an integer or a boolean, got ${JSON.stringify(value)}`,
        url,
      );
    case CURLOT_STRING:
      if (typeof value === 'string') {
        if (value.includes('\0')) throw CurlError.invalidInput(field, 'must not contain NUL', url);
        return value;
      }
      throw CurlError.invalidInput(field, `must be a string, got ${JSON.stringify(value)}`, url);
    case CURLOT_BLOB:
      if (typeof value === 'string') return Buffer.from(value);
      throw CurlError.invalidInput(field, 'must be a string', url);
    default:
      throw CurlError.invalidInput(field, 'takes a pointer or a function and cannot be set here', url);
  }
}
