import type { Readable } from 'node:stream';
import { isObservable, type Observable, of } from 'rxjs';
import type { NormalizedFormPart, NormalizedRequest } from '../core/NormalizedRequest.js';
import type { Headers } from '../core/types.js';

/**
 * A scripted response: a status with headers and a body, or a libcurl error code.
 *
 * @example
 * ```ts
 * const ok: ScriptedResponse = { status: 200, headers: { 'content-type': 'text/plain' }, body: 'hi' };
 * const slow: ScriptedResponse = { status: 200, body: cold('10ms a 10ms b|', { a: 'x', b: 'y' }) };
 * const timeout: ScriptedResponse = { error: CURLE.OPERATION_TIMEDOUT };
 * ```
 */
export type ScriptedResponse =
  | {
      /** The HTTP status. */
      status: number;
      /** Response headers. */
      headers?: Headers;
      /** Bytes at once, or an Observable of chunks, each a `data` event on the frame it is emitted. */
      body?: string | Uint8Array | Observable<string | Uint8Array>;
      /** Default '1.1'. */
      httpVersion?: string;
    }
  | {
      /** The CURLcode the transfer fails with. */
      error: number;
      /** libcurl's error text; a default names the code. */
      message?: string;
    };

/**
 * What a route answers: an Observable of responses, or a function of the request returning one (or a response).
 *
 * @example
 * ```ts
 * const script: RouteScript = (req) => cold('5ms r', { r: { status: 200, body: req.url } });
 * curl.route(/^http:\/\/site\.test\//, script);
 * ```
 */
export type RouteScript =
  | Observable<ScriptedResponse>
  | ((request: SentRequest) => Observable<ScriptedResponse> | ScriptedResponse);

/**
 * Which requests a route answers: 'METHOD URL', a URL, a RegExp over the URL, or a predicate.
 *
 * @example
 * ```ts
 * curl.route('POST http://api.test/items', of({ status: 201 }));
 * curl.route((req) => req.headers.authorization === undefined, of({ status: 401 }));
 * ```
 */
export type RouteMatcher = string | RegExp | ((request: SentRequest) => boolean);

/**
 * A request as the scripted transport received it.
 *
 * @example
 * ```ts
 * const [sent]: readonly SentRequest[] = curl.requests;
 * assert.equal(sent.headers['content-type'], 'application/json');
 * ```
 */
export interface SentRequest {
  /** The request method. */
  method: string;
  /** The URL. */
  url: string;
  /** Names lower-cased; a repeated header joined with ', '. */
  headers: Record<string, string>;
  /** The body as UTF-8 text; undefined when there was none or it was streamed. */
  body: string | undefined;
  /** The parts of a multipart form (`form`), as given; undefined without one. Streamed parts are not read. */
  form?: SentFormPart[];
}

/**
 * A part of a multipart form as the scripted transport received it: a value, a file path, or data
 * (bytes, a stream, or the File or Blob of a web FormData), with its filename and content type.
 *
 * @example
 * ```ts
 * const [sent] = curl.requests;
 * assert.deepEqual(sent.form?.[0], { name: 'title', value: 'holiday' });
 * ```
 */
export interface SentFormPart {
  /** The field name. */
  name: string;
  /** A text field's value. */
  value?: string;
  /** The path of a file part. */
  file?: string;
  /** The content of a data part, as given. */
  data?: Uint8Array | Readable | Observable<Uint8Array> | Blob;
  /** The filename, when one was given (a FormData File's name). */
  filename?: string;
  /** The content type, when one was given (application/octet-stream for data with a filename). */
  contentType?: string;
  /** The size of streamed data, when known. */
  size?: number;
}

interface Route {
  matches(request: SentRequest): boolean;
  script: RouteScript;
}

/** The routes of a scripted transport, tried in the order they were added. */
export class RouteTable {
  private readonly routes: Route[] = [];

  add(matcher: RouteMatcher, script: RouteScript): void {
    this.routes.push({ matches: toPredicate(matcher), script });
  }

  /**
   * What runs the script of the first route that matches `request` (a route's function may throw
   * when it runs); undefined when no route matches.
   */
  match(request: SentRequest): (() => Observable<ScriptedResponse>) | undefined {
    const route = this.routes.find((r) => r.matches(request));
    if (!route) return undefined;
    const { script } = route;
    if (typeof script !== 'function') return () => script;
    return () => {
      const answer = script(request);
      return isObservable(answer) ? answer : of(answer);
    };
  }
}

/** The request as a route sees it. */
export function sentRequest(request: NormalizedRequest): SentRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) {
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  const body = request.body?.kind === 'bytes' ? Buffer.from(request.body.bytes).toString('utf8') : undefined;
  const sent: SentRequest = { method: request.method, url: request.url, headers, body };
  if (request.form) sent.form = request.form.map(sentFormPart);
  return sent;
}

function sentFormPart(part: NormalizedFormPart): SentFormPart {
  const { name } = part;
  if (part.kind === 'value') return { name, value: part.value };
  const sent: SentFormPart =
    part.kind === 'file'
      ? { name, file: part.path }
      : part.kind === 'bytes'
        ? { name, data: part.bytes }
        : { name, data: part.source };
  if (part.filename !== undefined) sent.filename = part.filename;
  if (part.contentType !== undefined) sent.contentType = part.contentType;
  if (part.kind === 'stream' && part.size !== undefined) sent.size = part.size;
  return sent;
}

function toPredicate(matcher: RouteMatcher): (request: SentRequest) => boolean {
  if (typeof matcher === 'function') return matcher;
  if (matcher instanceof RegExp) return (request) => matcher.test(request.url);
  const space = matcher.indexOf(' ');
  if (space > 0 && !matcher.slice(0, space).includes(':')) {
    const method = matcher.slice(0, space).toUpperCase();
    const url = matcher.slice(space + 1).trim();
    return (request) => request.method === method && sameUrl(request.url, url);
  }
  return (request) => sameUrl(request.url, matcher);
}

function sameUrl(a: string, b: string): boolean {
  if (a === b) return true;
  return URL.canParse(a) && URL.canParse(b) && new URL(a).href === new URL(b).href;
}
