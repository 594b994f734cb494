import koffi from 'koffi';
import { HTTP_VERSIONS } from '../core/httpVersions.js';
import type { NormalizedRequest } from '../core/NormalizedRequest.js';
import { CurlError } from '../errors/CurlError.js';
import {
  CURLAUTH_BASIC,
  CURLOPT,
  CURLOT_BLOB,
  CURLOT_LONG,
  CURLOT_OFF_T,
  CURLOT_STRING,
  CURLOT_VALUES,
} from './constants.js';
import { CurlEasyOptionStruct, type Handle, type Libcurl } from './libcurl.js';

/** A value for curl_easy_setopt; the option's number range says how it is passed. */
export type OptionValue = number | string | Uint8Array | null;

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

function pem(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value) : value;
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
  else if (body || mime !== 0) {
    into.set('method', CURLOPT.POST, 1);
    if (method !== 'POST') into.set('method', CURLOPT.CUSTOMREQUEST, method);
  } else if (method !== 'GET') into.set('method', CURLOPT.CUSTOMREQUEST, method);
  if (body?.kind === 'bytes') {
    into.set('body', CURLOPT.POSTFIELDSIZE_LARGE, body.bytes.byteLength);
    into.set('body', CURLOPT.COPYPOSTFIELDS, body.bytes.byteLength === 0 ? '' : body.bytes);
  } else if (body?.kind === 'stream') {
    // Read through CURLOPT_READFUNCTION; an unknown length goes as chunks over HTTP/1.1.
    into.set('body', CURLOPT.POSTFIELDSIZE_LARGE, body.length ?? -1);
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
  const { tls } = req;
  if (tls) {
    if (tls.insecure) {
      into.set('tls.insecure', CURLOPT.SSL_VERIFYPEER, 0);
      into.set('tls.insecure', CURLOPT.SSL_VERIFYHOST, 0);
    }
    if (tls.ca !== undefined) into.set('tls.ca', CURLOPT.CAINFO_BLOB, pem(tls.ca));
    if (tls.caFile !== undefined) into.set('tls.caFile', CURLOPT.CAINFO, tls.caFile);
    if (tls.cert !== undefined) into.set('tls.cert', CURLOPT.SSLCERT_BLOB, pem(tls.cert));
    if (tls.certFile !== undefined) into.set('tls.certFile', CURLOPT.SSLCERT, tls.certFile);
    if (tls.key !== undefined) into.set('tls.key', CURLOPT.SSLKEY_BLOB, pem(tls.key));
    if (tls.keyFile !== undefined) into.set('tls.keyFile', CURLOPT.SSLKEY, tls.keyFile);
  }
  if (req.proxy !== undefined) into.set('proxy', CURLOPT.PROXY, req.proxy);
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
  for (const [name, value] of req.curlOptions) {
    const field = `curlOptions.${name}`;
    const option = findOption(lib, name, field, req.url);
    into.set(field, option.id, optionValue(option.type, value, field, req.url));
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
  value: string | number | boolean,
  field: string,
  url: string,
): OptionValue {
  switch (type) {
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
      throw CurlError.invalidInput(
        field,
        'takes a list, a pointer or a function and cannot be set here',
        url,
      );
  }
}
