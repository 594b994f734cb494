import { isObservable, Observable, of, type SchedulerLike, type Subscription } from 'rxjs';
import type { MultiCallbacks, MultiDriver } from '../core/MultiDriver.js';
import type { NormalizedRequest } from '../core/NormalizedRequest.js';
import {
  CURL_CSELECT_ERR,
  CURL_CSELECT_IN,
  CURL_POLL_IN,
  CURL_POLL_REMOVE,
  CURL_SOCKET_TIMEOUT,
} from '../core/socketEvents.js';
import type { TransferJob } from '../core/TransferJob.js';
import type { Headers, TransferResult } from '../core/types.js';
import { curlCodeName } from '../errors/CurlError.js';
import { multiCodeName } from '../errors/curlCodeNames.js';

/**
 * A scripted response: a status with headers and a body, or a libcurl error code.
 *
 * @example
 * ```ts
 * const ok: ScriptedResponse = { status: 200, headers: { 'content-type': 'text/plain' }, body: 'hi' };
 * const slow: ScriptedResponse = { status: 200, body: cold('10ms a 10ms b|', { a: 'x', b: 'y' }) };
 * const timeout: ScriptedResponse = { error: 28 };
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
}

/**
 * One call of curl_multi_socket_action, as the scripted driver saw it.
 *
 * @example
 * ```ts
 * const timeouts = driver.actions.filter((a: ActionRecord) => a.fd === -1);
 * ```
 */
export interface ActionRecord {
  /** The scheduler's time of the call. */
  time: number;
  /** The socket, or CURL_SOCKET_TIMEOUT (-1) for the timer. */
  fd: number;
  /** The CURL_CSELECT_* bits passed. */
  events: number;
}

/**
 * A change of what the engine watches on an fd: a CURL_POLL_* interest, or 'closed'.
 *
 * @example
 * ```ts
 * const closed = driver.watches.filter((w: WatchRecord) => w.interest === 'closed').length;
 * ```
 */
export interface WatchRecord {
  /** The scheduler's time of the change. */
  time: number;
  /** The socket. */
  fd: number;
  /** The CURL_POLL_* interest now watched, or 'closed'. */
  interest: number | 'closed';
}

interface Route {
  matches(request: SentRequest): boolean;
  script: RouteScript;
}

type Step =
  | { kind: 'head'; response: ScriptedResponse }
  | { kind: 'data'; chunk: Buffer }
  | { kind: 'end' }
  | { kind: 'fail'; code: number; message: string };

/** One scripted transfer: its fake socket, its script and what the script produced but was not yet read. */
interface Exchange {
  job: TransferJob;
  sent: SentRequest;
  fd: number;
  startedAt: number;
  deadline: number;
  pending: Step[];
  script: Subscription | undefined;
  body: Subscription | undefined;
  status: number;
  httpVersion: string;
  bytes: number;
}

const CURLE_COULDNT_CONNECT = 7;
const CURLE_OPERATION_TIMEDOUT = 28;
const CURLE_GOT_NOTHING = 52;
const CURLE_RECV_ERROR = 56;

/**
 * A MultiDriver without libcurl, on the virtual time of a scheduler. It behaves as libcurl's
 * multi_socket API does towards the engine: a transfer added asks for a timer of 0; on that
 * expiry it "connects" (announces a socket, lowest free fd first, so numbers come back as on a
 * real system) and subscribes its route's script; what the script emits makes the socket
 * readable, and the action on it delivers the response head and body through the same callbacks
 * the native driver uses; at the end the socket is removed and the result waits for info_read.
 * `timeoutMs` is enforced with libcurl's one timer.
 *
 * The engine's own marble tests also drive it by hand: `socket`, `timer` and `ready` play
 * libcurl's part, `actions` and `watches` record what the engine did.
 *
 * @example
 * ```ts
 * // createTestCurl() builds one for you; by hand, it is the second argument of new Curl():
 * const driver = new ScriptedDriver(scheduler);
 * const curl = new Curl({}, driver);
 * driver.route('GET http://a.test/', of({ status: 204 }));
 * ```
 */
export class ScriptedDriver implements MultiDriver {
  /** Every curl_multi_socket_action call. */
  readonly actions: ActionRecord[] = [];
  /** Every change of interest, and every poll closed. */
  readonly watches: WatchRecord[] = [];
  /** Every request sent, in order. */
  readonly requests: SentRequest[] = [];
  /** multi calls made from inside an action, which libcurl refuses (CURLM_RECURSIVE_API_CALL). */
  readonly recursiveCalls: string[] = [];
  runningHandles = 0;

  private callbacks: MultiCallbacks | undefined;
  private readonly routes: Route[] = [];
  private readonly starting: Exchange[] = [];
  private readonly exchanges = new Map<number, Exchange>();
  private readonly byJob = new Map<TransferJob, Exchange>();
  private readonly done: Array<{ job: TransferJob; result: TransferResult }> = [];
  private readonly readinessByFd = new Map<number, (events: number) => void>();
  private readonly fds = new Set<number>();
  private armedAt: number | undefined;
  private failNext = 0;
  private inAction = false;

  constructor(
    private readonly scheduler: SchedulerLike,
    /** With `manual`, added transfers only wait: the test plays libcurl with socket/timer/ready/complete. */
    private readonly manual = false,
  ) {}

  /** Answers requests that match `matcher` with `script`; see `TestCurl.route`. */
  route(matcher: RouteMatcher, script: RouteScript): void {
    this.routes.push({ matches: toPredicate(matcher), script });
  }

  // --- libcurl's part, for tests that drive the engine by hand -----------------------------

  /** As if libcurl called CURLMOPT_SOCKETFUNCTION. */
  socket(fd: number, what: number): void {
    this.callbacks?.socket(fd, what);
  }

  /** As if libcurl called CURLMOPT_TIMERFUNCTION. */
  timer(ms: number): void {
    this.callbacks?.timer(ms);
  }

  /** The socket `fd` became ready; the engine hears of it if it watches fd for those events. */
  ready(fd: number, events: number): void {
    this.readinessByFd.get(fd)?.(events);
  }

  /** Queues a finished transfer for the next info_read drain. */
  complete(job: TransferJob, code: number, status = 200): void {
    this.finishJob(job, code, status, code === 0 ? '' : `scripted error ${curlCodeName(code)}`, 0, '1.1', 0);
    this.runningHandles = Math.max(0, this.runningHandles - 1);
  }

  /** Transfers added and not yet finished or removed. */
  get jobs(): TransferJob[] {
    return [...this.byJob.keys()];
  }

  /** The next curl_multi_socket_action returns this CURLMcode. */
  failNextAction(code: number): void {
    this.failNext = code;
  }

  // --- MultiDriver ----------------------------------------------------------------------------

  open(callbacks: MultiCallbacks): void {
    this.callbacks = callbacks;
    this.armedAt = undefined;
  }

  add(job: TransferJob): void {
    if (this.inAction) this.recursiveCalls.push(`add ${job.id}`);
    const sent = describeRequest(job.request);
    this.requests.push(sent);
    const exchange: Exchange = {
      job,
      sent,
      fd: -1,
      startedAt: this.scheduler.now(),
      deadline: job.request.timeoutMs
        ? this.scheduler.now() + job.request.timeoutMs
        : Number.POSITIVE_INFINITY,
      pending: [],
      script: undefined,
      body: undefined,
      status: 0,
      httpVersion: '',
      bytes: 0,
    };
    this.byJob.set(job, exchange);
    this.runningHandles++;
    if (this.manual) return;
    this.starting.push(exchange);
    this.updateTimer();
  }

  remove(job: TransferJob): void {
    if (this.inAction) this.recursiveCalls.push(`remove ${job.id}`);
    const exchange = this.byJob.get(job);
    if (!exchange) return;
    this.byJob.delete(job);
    this.runningHandles = Math.max(0, this.runningHandles - 1);
    const index = this.starting.indexOf(exchange);
    if (index >= 0) this.starting.splice(index, 1);
    this.hangUp(exchange);
    this.updateTimer();
  }

  resume(job: TransferJob): void {
    const exchange = this.byJob.get(job);
    // As libcurl does on unpause: what was held back is read on the next action.
    if (exchange && exchange.pending.length > 0) this.ready(exchange.fd, CURL_CSELECT_IN);
  }

  socketAction(fd: number, events: number): number {
    this.actions.push({ time: this.scheduler.now(), fd, events });
    if (this.failNext !== 0) {
      const code = this.failNext;
      this.failNext = 0;
      return code;
    }
    if (this.manual) return 0;
    this.inAction = true;
    try {
      this.act(fd, events);
    } finally {
      this.inAction = false;
    }
    return 0;
  }

  private act(fd: number, events: number): void {
    if (fd === CURL_SOCKET_TIMEOUT) {
      this.armedAt = undefined;
      for (const exchange of this.starting.splice(0)) this.connect(exchange);
      const now = this.scheduler.now();
      for (const exchange of [...this.exchanges.values()]) {
        if (exchange.deadline <= now) {
          const elapsed = now - exchange.startedAt;
          this.finish(
            exchange,
            CURLE_OPERATION_TIMEDOUT,
            `Operation timed out after ${elapsed} milliseconds`,
          );
        }
      }
    } else {
      const exchange = this.exchanges.get(fd);
      if (exchange && (events & (CURL_CSELECT_IN | CURL_CSELECT_ERR)) !== 0) this.deliver(exchange);
    }
    this.updateTimer();
  }

  drain(onDone: (job: TransferJob, result: TransferResult) => void): void {
    for (let entry = this.done.shift(); entry; entry = this.done.shift()) onDone(entry.job, entry.result);
  }

  socketAll(): number {
    return this.socketAction(CURL_SOCKET_TIMEOUT, 0);
  }

  readiness(fd: number, interest: Observable<number>): Observable<number> {
    return new Observable<number>((subscriber) => {
      let watched = 0;
      // CURL_POLL_IN and CURL_POLL_OUT line up with CURL_CSELECT_IN and CURL_CSELECT_OUT.
      const onReady = (events: number) => {
        if ((events & watched) !== 0 || (events & CURL_CSELECT_ERR) !== 0) subscriber.next(events);
      };
      const watching = interest.subscribe({
        next: (what) => {
          if (what === watched) return;
          watched = what;
          this.watches.push({ time: this.scheduler.now(), fd, interest: what });
          this.readinessByFd.set(fd, onReady);
        },
        complete: () => subscriber.complete(),
      });
      return () => {
        watching.unsubscribe();
        if (watched !== 0) {
          if (this.readinessByFd.get(fd) === onReady) this.readinessByFd.delete(fd);
          this.watches.push({ time: this.scheduler.now(), fd, interest: 'closed' });
        }
      };
    });
  }

  describeMultiCode(code: number): string {
    return `scripted ${multiCodeName(code)}`;
  }

  /** Easy handles: attached to transfers, and pooled (always 0 here). */
  handleCounts(): {
    /** Handles of transfers in flight. */
    attached: number;
    /** Idle handles. */
    pooled: number;
  } {
    return { attached: this.byJob.size, pooled: 0 };
  }

  close(): void {
    for (const exchange of [...this.byJob.values()]) this.hangUp(exchange);
    this.byJob.clear();
    this.starting.length = 0;
    this.done.length = 0;
    this.runningHandles = 0;
    this.armedAt = undefined;
  }

  // --- the simulated transport ----------------------------------------------------------------

  /** The kick timer: the engine's expiry starts what was added. */
  private connect(exchange: Exchange): void {
    const route = this.routes.find((r) => r.matches(exchange.sent));
    if (!route) {
      this.queueDone(
        exchange,
        CURLE_COULDNT_CONNECT,
        `no route for ${exchange.sent.method} ${exchange.sent.url}`,
      );
      return;
    }
    exchange.fd = this.allocateFd();
    this.exchanges.set(exchange.fd, exchange);
    this.socket(exchange.fd, CURL_POLL_IN);
    let script: Observable<ScriptedResponse>;
    try {
      script = typeof route.script === 'function' ? asScript(route.script(exchange.sent)) : route.script;
    } catch (err) {
      this.push(exchange, {
        kind: 'fail',
        code: CURLE_RECV_ERROR,
        message: `route script threw: ${String(err)}`,
      });
      return;
    }
    let answered = false;
    exchange.script = script.subscribe({
      next: (response) => {
        if (answered) return;
        answered = true;
        this.push(exchange, { kind: 'head', response });
      },
      error: (err) =>
        this.push(exchange, {
          kind: 'fail',
          code: CURLE_RECV_ERROR,
          message: `script failed: ${String(err)}`,
        }),
      complete: () => {
        if (!answered)
          this.push(exchange, { kind: 'fail', code: CURLE_GOT_NOTHING, message: 'Empty reply from server' });
      },
    });
  }

  private push(exchange: Exchange, step: Step): void {
    exchange.pending.push(step);
    this.ready(exchange.fd, CURL_CSELECT_IN);
  }

  /** The socket is readable: hand over, in order, what the script produced. */
  private deliver(exchange: Exchange): void {
    const { job } = exchange;
    while (exchange.pending.length > 0 && this.exchanges.get(exchange.fd) === exchange && !job.paused) {
      const step = exchange.pending.shift()!;
      switch (step.kind) {
        case 'head':
          this.answer(exchange, step.response);
          break;
        case 'data':
          if (!job.active) return;
          exchange.bytes += step.chunk.length;
          job.data(step.chunk);
          break;
        case 'end':
          this.finish(exchange, 0, '');
          break;
        case 'fail':
          this.finish(exchange, step.code, step.message);
          break;
      }
    }
  }

  private answer(exchange: Exchange, response: ScriptedResponse): void {
    if ('error' in response) {
      this.finish(exchange, response.error, response.message ?? `scripted ${curlCodeName(response.error)}`);
      return;
    }
    const { job } = exchange;
    exchange.status = response.status;
    exchange.httpVersion = response.httpVersion ?? '1.1';
    if (job.active) {
      job.response({
        status: response.status,
        httpVersion: exchange.httpVersion,
        headers: lowerCaseKeys(response.headers ?? {}),
        url: exchange.sent.url,
      });
    }
    const { body } = response;
    if (isObservable(body)) {
      exchange.body = body.subscribe({
        next: (chunk) => this.push(exchange, { kind: 'data', chunk: toBuffer(chunk) }),
        error: (err) =>
          this.push(exchange, {
            kind: 'fail',
            code: CURLE_RECV_ERROR,
            message: `body failed: ${String(err)}`,
          }),
        complete: () => this.push(exchange, { kind: 'end' }),
      });
      return;
    }
    if (body !== undefined && job.active && exchange.sent.method !== 'HEAD') {
      const chunk = toBuffer(body);
      if (chunk.length > 0) {
        exchange.bytes += chunk.length;
        job.data(chunk);
      }
    }
    this.finish(exchange, 0, '');
  }

  private finish(exchange: Exchange, code: number, message: string): void {
    this.hangUp(exchange);
    this.queueDone(exchange, code, message);
  }

  private queueDone(exchange: Exchange, code: number, message: string): void {
    if (!this.byJob.delete(exchange.job)) return;
    this.runningHandles = Math.max(0, this.runningHandles - 1);
    const elapsed = this.scheduler.now() - exchange.startedAt;
    this.finishJob(
      exchange.job,
      code,
      exchange.status,
      message,
      exchange.bytes,
      exchange.httpVersion,
      elapsed,
    );
  }

  private finishJob(
    job: TransferJob,
    code: number,
    status: number,
    message: string,
    bytes: number,
    httpVersion: string,
    elapsed: number,
  ): void {
    this.byJob.delete(job);
    const { request } = job;
    this.done.push({
      job,
      result: {
        id: job.id,
        url: request.url,
        effectiveUrl: request.url,
        method: request.method,
        ok: code === 0,
        code,
        codeName: curlCodeName(code),
        message,
        status,
        httpVersion,
        downloadedBytes: bytes,
        uploadedBytes: request.body?.kind === 'bytes' ? request.body.bytes.byteLength : 0,
        redirects: 0,
        primaryIp: '',
        primaryPort: 0,
        timings: { dnsMs: 0, connectMs: 0, tlsMs: 0, firstByteMs: elapsed, totalMs: elapsed, redirectMs: 0 },
      },
    });
  }

  /** Unsubscribes the script, closes the fake socket and frees its number. */
  private hangUp(exchange: Exchange): void {
    exchange.script?.unsubscribe();
    exchange.body?.unsubscribe();
    exchange.script = undefined;
    exchange.body = undefined;
    exchange.pending.length = 0;
    if (exchange.fd >= 0 && this.exchanges.get(exchange.fd) === exchange) {
      this.exchanges.delete(exchange.fd);
      this.fds.delete(exchange.fd);
      this.socket(exchange.fd, CURL_POLL_REMOVE);
    }
  }

  private allocateFd(): number {
    let fd = 3;
    while (this.fds.has(fd)) fd++;
    this.fds.add(fd);
    return fd;
  }

  /** libcurl's one timer: 0 while transfers wait to start, else the nearest deadline. */
  private updateTimer(): void {
    if (this.manual) return;
    const now = this.scheduler.now();
    let next = this.starting.length > 0 ? now : Number.POSITIVE_INFINITY;
    for (const exchange of this.exchanges.values()) next = Math.min(next, exchange.deadline);
    if (next === Number.POSITIVE_INFINITY) {
      if (this.armedAt !== undefined) {
        this.armedAt = undefined;
        this.timer(-1);
      }
    } else if (next !== this.armedAt) {
      this.armedAt = next;
      this.timer(Math.max(0, next - now));
    }
  }
}

function asScript(value: Observable<ScriptedResponse> | ScriptedResponse): Observable<ScriptedResponse> {
  return isObservable(value) ? value : of(value);
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

function describeRequest(request: NormalizedRequest): SentRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) {
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  const body = request.body?.kind === 'bytes' ? Buffer.from(request.body.bytes).toString('utf8') : undefined;
  return { method: request.method, url: request.url, headers, body };
}

function lowerCaseKeys(headers: Headers): Headers {
  const out: Headers = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function toBuffer(chunk: string | Uint8Array): Buffer {
  return typeof chunk === 'string'
    ? Buffer.from(chunk)
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
