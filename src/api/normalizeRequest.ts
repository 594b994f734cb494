import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isObservable, type Observable, of } from 'rxjs';
import { HTTP_VERSIONS, isHttpVersion } from '../core/httpVersions.js';
import { MAX_TIMER_MS } from '../core/maxTimerMs.js';
import type { NormalizedBody, NormalizedFormPart, NormalizedRequest } from '../core/NormalizedRequest.js';
import type { SshOptions } from '../core/SshOptions.js';
import { CurlError } from '../errors/CurlError.js';
import type { CurlRequest } from './CurlRequest.js';
import { normalizeForm } from './normalizeForm.js';
import { optionShapes } from './optionShapes.js';
import { isPlainHttpUrl } from './plainHttpUrl.js';

/** How the Curl that runs a request shapes it. */
export interface RequestContext {
  defaults: Partial<CurlRequest> | undefined;
  multiplex: boolean;
  /** A default for maxBodyBytes when the request has none (request() buffers, so it sets one). */
  maxBodyBytes?: number;
  /**
   * Requests given as a URL string, normalised once: the same string always gives the same
   * request under one context, and a NormalizedRequest is never changed once made.
   */
  byUrl?: Map<string, NormalizedRequest>;
}

/** URL strings remembered per context; the map starts over when full. */
const MAX_REMEMBERED_URLS = 1024;

// Every field of CurlRequest, checked both ways at compile time: a field added to the interface
// and not here (or the reverse) does not build.
const FIELD_NAMES = {
  url: true,
  method: true,
  headers: true,
  body: true,
  json: true,
  timeoutMs: true,
  connectTimeoutMs: true,
  followRedirects: true,
  maxRedirects: true,
  decompress: true,
  httpVersion: true,
  tls: true,
  proxy: true,
  auth: true,
  protocols: true,
  progress: true,
  userAgent: true,
  lowSpeed: true,
  maxBodyBytes: true,
  resume: true,
  signal: true,
  curlOptions: true,
  resolve: true,
  connectTo: true,
  unixSocket: true,
  pinnedPublicKey: true,
  maxRecvBytesPerSecond: true,
  maxSendBytesPerSecond: true,
  ssh: true,
  form: true,
} as const satisfies Record<keyof CurlRequest, true>;
const FIELDS = new Set<string>(Object.keys(FIELD_NAMES));
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// CR, LF and NUL would split or end a header line; other control characters have no place either.
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;
const FORBIDDEN_IN_URL = /[\0-\x20\x7f]/;
const SCHEME = /^[a-z][a-z0-9+.-]*$/;
const DEFAULT_PROTOCOLS = 'http,https';

/**
 * Validates a request and applies defaults. Throws a CurlError with code INVALID_INPUT that names
 * the field; the engine turns that into an error on the transfer's Observable.
 */
export function normalizeRequest(input: CurlRequest | string, context: RequestContext): NormalizedRequest {
  if (typeof input !== 'string' || !context.byUrl) return normalize(input, context);
  const known = context.byUrl.get(input);
  if (known) return known;
  const request = normalize(input, context);
  if (request.body === undefined) {
    if (context.byUrl.size >= MAX_REMEMBERED_URLS) context.byUrl.clear();
    context.byUrl.set(input, request);
  }
  return request;
}

function normalize(input: CurlRequest | string, context: RequestContext): NormalizedRequest {
  const given = typeof input === 'string' ? { url: input } : input;
  if (given === null || typeof given !== 'object') {
    throw CurlError.invalidInput(
      'request',
      `must be a URL string or an object with a url, got ${describe(given)}`,
    );
  }
  const req: CurlRequest = context.defaults ? mergeDefaults(context.defaults, given) : given;
  const url = checkUrl(req.url);
  const bad = (field: string, problem: string) => CurlError.invalidInput(field, problem, url);

  for (const key of Object.keys(req)) {
    if (!FIELDS.has(key)) throw bad(key, 'is not a request field');
  }

  const headers = normalizeHeaders(req.headers, bad);
  if (req.body !== undefined && req.json !== undefined) throw bad('body', 'and json cannot both be given');
  let body: NormalizedBody | undefined;
  if (req.json !== undefined) {
    // JSON.stringify throws a bare TypeError on a cycle or a BigInt: report it as bad input instead.
    let text: string | undefined;
    try {
      text = JSON.stringify(req.json);
    } catch (err) {
      throw bad('json', `cannot be serialised as JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (text === undefined) throw bad('json', 'cannot be serialised as JSON');
    body = { kind: 'bytes', bytes: Buffer.from(text) };
    addDefaultHeader(headers, 'Content-Type', 'application/json');
  } else if (req.body !== undefined) {
    body = normalizeBody(req.body, headers, bad);
  }

  let form: NormalizedFormPart[] | undefined;
  if (req.form !== undefined) {
    if (body) throw bad('form', `and ${req.json !== undefined ? 'json' : 'body'} cannot both be given`);
    form = normalizeForm(req.form, bad);
  }

  let method = req.method ?? (body || form ? 'POST' : 'GET');
  if (typeof method !== 'string' || !TOKEN.test(method))
    throw bad('method', `must be an HTTP token, got ${describe(method)}`);
  method = method.toUpperCase();
  // FTP, SFTP, SCP: a PUT uploads (the default method with a body there).
  let upload = false;
  if ((body !== undefined || req.method !== undefined) && FILE_TRANSFER_URL.test(url)) {
    if (req.method === undefined) method = 'PUT';
    upload = checkFileTransferMethod(method, body, url, bad);
    if (upload) body = uploadBody(body);
  }

  const protocols = req.protocols === undefined ? DEFAULT_PROTOCOLS : normalizeProtocols(req.protocols, bad);
  const httpVersion = req.httpVersion;
  if (httpVersion !== undefined && !isHttpVersion(httpVersion)) {
    throw bad(
      'httpVersion',
      `must be one of ${Object.keys(HTTP_VERSIONS).join(', ')}, got ${describe(httpVersion)}`,
    );
  }
  optionalBoolean(req.resume, 'resume', false, bad); // read by download() itself
  const signal = req.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw bad('signal', 'must be an AbortSignal');

  return {
    url,
    method,
    headers,
    body,
    timeoutMs: optionalMs(req.timeoutMs, 'timeoutMs', bad),
    connectTimeoutMs: optionalMs(req.connectTimeoutMs, 'connectTimeoutMs', bad),
    followRedirects: optionalBoolean(req.followRedirects, 'followRedirects', true, bad),
    maxRedirects: optionalCount(req.maxRedirects, 'maxRedirects', bad) ?? 10,
    decompress: optionalBoolean(req.decompress, 'decompress', true, bad),
    httpVersion,
    protocols,
    userAgent: optionalText(req.userAgent, 'userAgent', bad),
    tls: normalizeTls(req.tls, 'tls', bad),
    ...normalizeProxy(req.proxy, bad),
    auth: normalizeAuth(req.auth, 'auth', bad),
    progress: optionalBoolean(req.progress, 'progress', false, bad),
    lowSpeed: normalizeLowSpeed(req.lowSpeed, bad),
    maxBodyBytes: optionalCount(req.maxBodyBytes, 'maxBodyBytes', bad) ?? context.maxBodyBytes,
    pipeWait:
      context.multiplex &&
      (url.startsWith('https:') || (httpVersion !== undefined && httpVersion[0] !== '1')),
    signal,
    curlOptions: normalizeCurlOptions(req.curlOptions, bad),
    resolve: optionalList(req.resolve, 'resolve', optionShapes.resolve, bad),
    connectTo: optionalList(req.connectTo, 'connectTo', optionShapes.connectTo, bad),
    unixSocket: optionalUnixSocket(req.unixSocket, bad),
    pinnedPublicKey: optionalShaped(
      req.pinnedPublicKey,
      'pinnedPublicKey',
      optionShapes.pinnedPublicKey,
      bad,
    ),
    maxRecvBytesPerSecond: optionalInteger(req.maxRecvBytesPerSecond, 'maxRecvBytesPerSecond', bad),
    maxSendBytesPerSecond: optionalInteger(req.maxSendBytesPerSecond, 'maxSendBytesPerSecond', bad),
    upload,
    ssh:
      req.ssh === undefined && req.protocols === undefined
        ? undefined
        : normalizeSsh(req.ssh, protocols, bad),
    form,
  };
}

export type Bad = (field: string, problem: string) => CurlError;

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return String(value);
}

function checkUrl(url: unknown): string {
  if (typeof url !== 'string') throw CurlError.invalidInput('url', `must be a string, got ${describe(url)}`);
  if (FORBIDDEN_IN_URL.test(url)) {
    throw CurlError.invalidInput('url', 'must not contain spaces or control characters (CR, LF, NUL)', url);
  }
  if (!isPlainHttpUrl(url) && !URL.canParse(url))
    throw CurlError.invalidInput('url', `is not a valid absolute URL: ${JSON.stringify(url)}`, url);
  return url;
}

function mergeDefaults(defaults: Partial<CurlRequest>, req: CurlRequest): CurlRequest {
  const merged: CurlRequest = { ...defaults, ...req };
  if (defaults.headers && req.headers) {
    // Request headers replace default headers of the same name.
    const own = new Set([...headerPairs(req.headers)].map(([name]) => String(name).toLowerCase()));
    merged.headers = [
      ...[...headerPairs(defaults.headers)].filter(([name]) => !own.has(String(name).toLowerCase())),
      ...headerPairs(req.headers),
    ];
  }
  return merged;
}

function* headerPairs(headers: NonNullable<CurlRequest['headers']>): Iterable<[string, string]> {
  if (Symbol.iterator in headers) {
    yield* headers as Iterable<[string, string]>;
    return;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) yield [name, v];
    else yield [name, value as string];
  }
}

function normalizeHeaders(headers: CurlRequest['headers'], bad: Bad): Array<[string, string]> {
  if (headers === undefined) return [];
  if (headers === null || typeof headers !== 'object')
    throw bad('headers', `must be an object or pairs, got ${describe(headers)}`);
  const out: Array<[string, string]> = [];
  for (const pair of headerPairs(headers)) {
    if (!Array.isArray(pair) || pair.length !== 2) throw bad('headers', 'must be [name, value] pairs');
    const [name, value] = pair;
    if (typeof name !== 'string' || !TOKEN.test(name))
      throw bad('headers', `has an invalid name ${describe(name)}`);
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw bad(`headers.${name}`, `must be a string, got ${describe(value)}`);
    }
    const text = String(value);
    if (FORBIDDEN_IN_VALUE.test(text)) throw bad(`headers.${name}`, 'must not contain CR, LF or NUL');
    out.push([name, text.trim()]);
  }
  return out;
}

function addDefaultHeader(headers: Array<[string, string]>, name: string, value: string): void {
  const lower = name.toLowerCase();
  if (!headers.some(([n]) => n.toLowerCase() === lower)) headers.push([name, value]);
}

function normalizeBody(body: unknown, headers: Array<[string, string]>, bad: Bad): NormalizedBody {
  if (typeof body === 'string') return { kind: 'bytes', bytes: Buffer.from(body) };
  if (body instanceof Uint8Array) return { kind: 'bytes', bytes: body };
  if (body instanceof URLSearchParams) {
    addDefaultHeader(headers, 'Content-Type', 'application/x-www-form-urlencoded');
    return { kind: 'bytes', bytes: Buffer.from(body.toString()) };
  }
  if (body instanceof Readable && (body.destroyed || body.readableEnded))
    throw bad('body', 'is a Readable that was already consumed (a stream can be sent once)');
  if (body instanceof Readable || isObservable(body)) {
    return {
      kind: 'stream',
      source: body as Readable | Observable<Uint8Array>,
      length: streamLength(headers, bad),
    };
  }
  throw bad(
    'body',
    `must be a string, Uint8Array, URLSearchParams, Readable or Observable, got ${describe(body)}`,
  );
}

/** A Content-Length given with a streamed body is its size; libcurl then sends it instead of chunks. */
function streamLength(headers: Array<[string, string]>, bad: Bad): number | undefined {
  const index = headers.findIndex(([name]) => name.toLowerCase() === 'content-length');
  if (index < 0) return undefined;
  const value = headers[index][1];
  if (!/^\d+$/.test(value))
    throw bad('headers.Content-Length', `must be a whole number, got ${describe(value)}`);
  headers.splice(index, 1); // libcurl writes it from CURLOPT_POSTFIELDSIZE_LARGE
  return Number(value);
}

function normalizeProtocols(protocols: unknown, bad: Bad): string {
  if (!Array.isArray(protocols) || protocols.length === 0)
    throw bad('protocols', 'must be a non-empty array of schemes');
  for (const p of protocols) {
    if (typeof p !== 'string' || !SCHEME.test(p))
      throw bad('protocols', `has an invalid scheme ${describe(p)}`);
  }
  return protocols.join(',');
}

export function optionalCount(value: unknown, field: string, bad: Bad): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw bad(field, `must be a finite number >= 0, got ${describe(value)}`);
  }
  return Math.round(value);
}

/** libcurl asks for timers as long as the timeouts it is given: keep them within MAX_TIMER_MS. */
function optionalMs(value: unknown, field: string, bad: Bad): number | undefined {
  const ms = optionalCount(value, field, bad);
  if (ms !== undefined && ms > MAX_TIMER_MS) {
    throw bad(field, `must be at most ${MAX_TIMER_MS} ms (about 24.8 days), got ${ms}`);
  }
  return ms;
}

function optionalBoolean(value: unknown, field: string, fallback: boolean, bad: Bad): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw bad(field, `must be a boolean, got ${describe(value)}`);
  return value;
}

export function optionalText(value: unknown, field: string, bad: Bad): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw bad(field, `must be a string, got ${describe(value)}`);
  if (FORBIDDEN_IN_VALUE.test(value)) throw bad(field, 'must not contain CR, LF or NUL');
  return value;
}

function normalizeTls(tls: CurlRequest['tls'], field: string, bad: Bad): CurlRequest['tls'] {
  if (tls === undefined) return undefined;
  if (tls === null || typeof tls !== 'object') throw bad(field, `must be an object, got ${describe(tls)}`);
  for (const key of ['ca', 'cert', 'key'] as const) {
    const v = tls[key];
    if (v !== undefined && typeof v !== 'string' && !(v instanceof Uint8Array)) {
      throw bad(`${field}.${key}`, 'must be PEM text or bytes');
    }
  }
  for (const key of ['caFile', 'certFile', 'keyFile'] as const)
    optionalText(tls[key], `${field}.${key}`, bad);
  optionalBoolean(tls.insecure, `${field}.insecure`, false, bad);
  return tls;
}

function normalizeAuth(auth: CurlRequest['auth'], field: string, bad: Bad): CurlRequest['auth'] {
  if (auth === undefined) return undefined;
  if (auth === null || typeof auth !== 'object') throw bad(field, 'must be { username, password }');
  const username = optionalText(auth.username, `${field}.username`, bad);
  const password = optionalText(auth.password, `${field}.password`, bad);
  if (username === undefined || password === undefined) throw bad(field, 'needs both username and password');
  return { username, password };
}

const PROXY_SCHEMES = /^(https?|socks4a?|socks5h?):\/\//i;
type ProxyFields = Pick<NormalizedRequest, 'proxy' | 'proxyAuth' | 'proxyTls' | 'noProxy'>;
const NO_PROXY_FIELDS: ProxyFields = {
  proxy: undefined,
  proxyAuth: undefined,
  proxyTls: undefined,
  noProxy: undefined,
};
const PROXY_OFF: ProxyFields = { ...NO_PROXY_FIELDS, proxy: '' };

/** `proxy` as a URL, `false` (libcurl's empty proxy: none, whatever the environment says) or an object. */
function normalizeProxy(proxy: CurlRequest['proxy'], bad: Bad): ProxyFields {
  if (proxy === undefined) return NO_PROXY_FIELDS;
  if (proxy === false || proxy === '') return PROXY_OFF;
  if (typeof proxy === 'string') return { ...NO_PROXY_FIELDS, proxy: proxyUrl(proxy, 'proxy', bad) };
  if (proxy === null || typeof proxy !== 'object') {
    throw bad('proxy', `must be a URL, false or { url, auth?, tls?, noProxy? }, got ${describe(proxy)}`);
  }
  if (proxy.url === undefined) throw bad('proxy.url', 'is required');
  let noProxy: string | undefined;
  if (proxy.noProxy !== undefined) {
    if (!Array.isArray(proxy.noProxy))
      throw bad('proxy.noProxy', `must be an array of host names, got ${describe(proxy.noProxy)}`);
    noProxy = proxy.noProxy
      .map((host, i) => {
        const name = optionalText(host, `proxy.noProxy[${i}]`, bad);
        if (!name || /[\s,]/.test(name))
          throw bad(`proxy.noProxy[${i}]`, 'must be a host name without spaces or commas');
        return name;
      })
      .join(',');
  }
  return {
    proxy: proxyUrl(proxy.url, 'proxy.url', bad),
    proxyAuth: normalizeAuth(proxy.auth, 'proxy.auth', bad),
    proxyTls: normalizeTls(proxy.tls, 'proxy.tls', bad),
    noProxy,
  };
}

function proxyUrl(value: unknown, field: string, bad: Bad): string {
  const url = optionalText(value, field, bad);
  if (!url || !PROXY_SCHEMES.test(url)) {
    throw bad(
      field,
      `must be a proxy URL (http, https, socks4, socks4a, socks5 or socks5h), got ${describe(value)}`,
    );
  }
  return url;
}

function normalizeLowSpeed(lowSpeed: CurlRequest['lowSpeed'], bad: Bad): CurlRequest['lowSpeed'] {
  if (lowSpeed === undefined) return undefined;
  if (lowSpeed === null || typeof lowSpeed !== 'object')
    throw bad('lowSpeed', 'must be { bytesPerSecond, seconds }');
  const bytesPerSecond = optionalCount(lowSpeed.bytesPerSecond, 'lowSpeed.bytesPerSecond', bad);
  const seconds = optionalCount(lowSpeed.seconds, 'lowSpeed.seconds', bad);
  if (!bytesPerSecond || !seconds) throw bad('lowSpeed', 'needs bytesPerSecond and seconds above 0');
  return { bytesPerSecond, seconds };
}

/** What is wrong with a string of a given shape (optionShapes), or undefined. */
type Shape = (value: string) => string | undefined;

/**
 * A list of strings for a curl_slist, each free of CR, LF and NUL (libcurl reads an item as one
 * line) and of `shape`; the problem names the item, e.g. `resolve[1]`. A copy, frozen: undefined
 * for an empty list.
 */
function optionalList(
  value: unknown,
  field: string,
  shape: Shape | undefined,
  bad: Bad,
): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw bad(field, `must be an array of strings, got ${describe(value)}`);
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (typeof item !== 'string') throw bad(`${field}[${i}]`, `must be a string, got ${describe(item)}`);
    optionalShaped(item, `${field}[${i}]`, shape, bad);
  }
  return value.length === 0 ? undefined : Object.freeze([...value]);
}

/** optionalText with a shape to match. */
function optionalShaped(
  value: unknown,
  field: string,
  shape: Shape | undefined,
  bad: Bad,
): string | undefined {
  const text = optionalText(value, field, bad);
  const problem = text === undefined ? undefined : shape?.(text);
  if (problem) throw bad(field, problem);
  return text;
}

/** A socket path fits in sockaddr_un's sun_path (108 bytes with its NUL on Linux). */
function optionalUnixSocket(value: unknown, bad: Bad): string | undefined {
  const path = optionalText(value, 'unixSocket', bad);
  if (path === '') throw bad('unixSocket', 'must be a socket path, got ""');
  if (path !== undefined && Buffer.byteLength(path) > 107)
    throw bad('unixSocket', `must be at most 107 bytes long (sun_path), got ${Buffer.byteLength(path)}`);
  return path;
}

function optionalInteger(value: unknown, field: string, bad: Bad): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    throw bad(field, `must be an integer >= 0, got ${describe(value)}`);
  return value as number;
}

function normalizeCurlOptions(
  options: CurlRequest['curlOptions'],
  bad: Bad,
): Array<[string, string | number | boolean | readonly string[]]> {
  if (options === undefined) return [];
  if (options === null || typeof options !== 'object') throw bad('curlOptions', 'must be an object');
  const out: Array<[string, string | number | boolean | readonly string[]]> = [];
  for (const [given, value] of Object.entries(options)) {
    const name = given.replace(/^CURLOPT_/i, '');
    // A list option (RESOLVE, QUOTE, MAIL_RCPT…) as a curl_slist; whether libcurl takes a list
    // for this name is checked when the options are compiled.
    if (Array.isArray(value)) {
      out.push([name, optionalList(value, `curlOptions.${name}`, undefined, bad) ?? []]);
      continue;
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw bad(
        `curlOptions.${name}`,
        `must be a string, number, boolean or string[], got ${describe(value)}`,
      );
    }
    // A string option can end up in a request line or header (REFERER, COOKIE, CUSTOMREQUEST…), so
    // CR, LF and NUL are refused as in headers. Blobs (CAINFO_BLOB, SSLCERT_BLOB…) are PEM text
    // with line breaks, passed as bytes, never written into a request.
    if (typeof value === 'string' && FORBIDDEN_IN_VALUE.test(value) && !/_BLOB$/i.test(name)) {
      throw bad(`curlOptions.${name}`, 'must not contain CR, LF or NUL');
    }
    out.push([name, value]);
  }
  return out;
}

// FTP, SFTP and SCP.
const FILE_TRANSFER_URL = /^(ftps?|sftp|scp):/i;
const SSH_PROTOCOL = /(^|,)(sftp|scp)(,|$)/;
const SHA256_BASE64 = /^[A-Za-z0-9+/]{43}=?$/;

/**
 * On FTP, SFTP and SCP only GET (download, or list a directory), HEAD and PUT (upload) mean
 * something: libcurl would send any other method as the FTP listing command. True for an upload.
 */
function checkFileTransferMethod(
  method: string,
  body: NormalizedBody | undefined,
  url: string,
  bad: Bad,
): boolean {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT')
    throw bad('method', `must be GET, HEAD or PUT (upload) on ${scheme}://, got ${describe(method)}`);
  if (body !== undefined && method !== 'PUT')
    throw bad('body', `is sent only with method PUT on ${scheme}://`);
  return method === 'PUT';
}

/** An upload is read through the read callback, whatever its body (none uploads an empty file). */
function uploadBody(body: NormalizedBody | undefined): NormalizedBody {
  if (body === undefined) return { kind: 'stream', source: of(), length: 0 };
  if (body.kind === 'stream') return body;
  return { kind: 'stream', source: of(body.bytes), length: body.bytes.byteLength };
}

/**
 * The host key is always checked when sftp or scp may be reached: with neither a known_hosts file
 * nor a pinned key, against ~/.ssh/known_hosts as the curl command line does. libcurl itself
 * would accept any host key.
 */
function normalizeSsh(ssh: CurlRequest['ssh'], protocols: string, bad: Bad): SshOptions | undefined {
  if (ssh === undefined && !SSH_PROTOCOL.test(protocols)) return undefined;
  const given = ssh ?? {};
  if (given === null || typeof given !== 'object')
    throw bad('ssh', `must be an object, got ${describe(given)}`);
  const out: SshOptions = {};
  for (const key of ['privateKeyFile', 'publicKeyFile', 'knownHostsFile'] as const) {
    const file = optionalText(given[key], `ssh.${key}`, bad);
    if (file !== undefined) out[key] = file;
  }
  let pin = optionalText(given.hostPublicKeySha256, 'ssh.hostPublicKeySha256', bad);
  if (pin !== undefined) {
    pin = pin.replace(/^SHA256:/, '');
    if (!SHA256_BASE64.test(pin))
      throw bad('ssh.hostPublicKeySha256', `must be a base64 SHA-256 (43 characters), got ${describe(pin)}`);
    out.hostPublicKeySha256 = pin;
  }
  if (out.knownHostsFile === undefined && pin === undefined)
    out.knownHostsFile = join(homedir(), '.ssh', 'known_hosts');
  return out;
}
