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
 * request of the same shape only needs the values that changed.
 */
export interface EasyOptions {
  ids: number[];
  values: OptionValue[];
  /** Names for error messages: the request field each option came from. */
  fields: string[];
  url: string;
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
 * Compiles a validated request into libcurl options. `headerList` is the curl_slist for its
 * headers (0 for none), built and owned by the caller. Throws INVALID_INPUT for curlOptions that
 * libcurl does not know or that cannot be set from a plain value.
 */
export function compileOptions(lib: Libcurl, req: NormalizedRequest, headerList: Handle, userAgent: string) {
  const ids: number[] = [];
  const values: OptionValue[] = [];
  const fields: string[] = [];
  const set = (field: string, id: number, value: OptionValue) => {
    ids.push(id);
    values.push(value);
    fields.push(field);
  };

  set('url', CURLOPT.URL, req.url);
  const { method, body } = req;
  if (method === 'HEAD') set('method', CURLOPT.NOBODY, 1);
  else if (body) {
    set('method', CURLOPT.POST, 1);
    if (method !== 'POST') set('method', CURLOPT.CUSTOMREQUEST, method);
  } else if (method !== 'GET') set('method', CURLOPT.CUSTOMREQUEST, method);
  if (body?.kind === 'bytes') {
    set('body', CURLOPT.POSTFIELDSIZE_LARGE, body.bytes.byteLength);
    set('body', CURLOPT.COPYPOSTFIELDS, body.bytes.byteLength === 0 ? '' : body.bytes);
  } else if (body?.kind === 'stream') {
    // Read through CURLOPT_READFUNCTION; an unknown length goes as chunks over HTTP/1.1.
    set('body', CURLOPT.POSTFIELDSIZE_LARGE, body.length ?? -1);
  }
  if (req.progress) set('progress', CURLOPT.NOPROGRESS, 0);
  if (headerList !== 0) set('headers', CURLOPT.HTTPHEADER, headerList);
  if (req.timeoutMs !== undefined) set('timeoutMs', CURLOPT.TIMEOUT_MS, req.timeoutMs);
  if (req.connectTimeoutMs !== undefined)
    set('connectTimeoutMs', CURLOPT.CONNECTTIMEOUT_MS, req.connectTimeoutMs);
  if (req.followRedirects) {
    set('followRedirects', CURLOPT.FOLLOWLOCATION, 1);
    set('maxRedirects', CURLOPT.MAXREDIRS, req.maxRedirects);
  }
  if (req.decompress) set('decompress', CURLOPT.ACCEPT_ENCODING, '');
  set('protocols', CURLOPT.PROTOCOLS_STR, req.protocols);
  set('protocols', CURLOPT.REDIR_PROTOCOLS_STR, req.protocols);
  set('userAgent', CURLOPT.USERAGENT, req.userAgent ?? userAgent);
  if (req.httpVersion) set('httpVersion', CURLOPT.HTTP_VERSION, HTTP_VERSIONS[req.httpVersion]);
  if (req.pipeWait) set('httpVersion', CURLOPT.PIPEWAIT, 1);
  const { tls } = req;
  if (tls) {
    if (tls.insecure) {
      set('tls.insecure', CURLOPT.SSL_VERIFYPEER, 0);
      set('tls.insecure', CURLOPT.SSL_VERIFYHOST, 0);
    }
    if (tls.ca !== undefined) set('tls.ca', CURLOPT.CAINFO_BLOB, pem(tls.ca));
    if (tls.caFile !== undefined) set('tls.caFile', CURLOPT.CAINFO, tls.caFile);
    if (tls.cert !== undefined) set('tls.cert', CURLOPT.SSLCERT_BLOB, pem(tls.cert));
    if (tls.certFile !== undefined) set('tls.certFile', CURLOPT.SSLCERT, tls.certFile);
    if (tls.key !== undefined) set('tls.key', CURLOPT.SSLKEY_BLOB, pem(tls.key));
    if (tls.keyFile !== undefined) set('tls.keyFile', CURLOPT.SSLKEY, tls.keyFile);
  }
  if (req.proxy !== undefined) set('proxy', CURLOPT.PROXY, req.proxy);
  if (req.auth) {
    set('auth', CURLOPT.USERNAME, req.auth.username);
    set('auth', CURLOPT.PASSWORD, req.auth.password);
    set('auth', CURLOPT.HTTPAUTH, CURLAUTH_BASIC);
  }
  if (req.lowSpeed) {
    set('lowSpeed', CURLOPT.LOW_SPEED_LIMIT, req.lowSpeed.bytesPerSecond);
    set('lowSpeed', CURLOPT.LOW_SPEED_TIME, req.lowSpeed.seconds);
  }
  if (req.maxBodyBytes !== undefined) set('maxBodyBytes', CURLOPT.MAXFILESIZE_LARGE, req.maxBodyBytes);
  for (const [name, value] of req.curlOptions) {
    const field = `curlOptions.${name}`;
    const option = findOption(lib, name, field, req.url);
    set(field, option.id, optionValue(option.type, value, field, req.url));
  }
  return { ids, values, fields, url: req.url } satisfies EasyOptions;
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
