import { closeSync, openSync } from 'node:fs';
import type { Observable, SchedulerLike } from 'rxjs';
import type { DriverTransfer, MultiCallbacks, MultiCode, MultiDriver } from '../core/MultiDriver.js';
import {
  CURL_CSELECT_ERR,
  CURL_CSELECT_IN,
  CURL_POLL_IN,
  CURL_POLL_REMOVE,
  CURL_SOCKET_TIMEOUT,
} from '../core/socketEvents.js';
import type { TransferResult } from '../core/types.js';
import { CurlError } from '../errors/CurlError.js';
import { CURLE } from '../errors/curlCodes.js';
import { CURLM, multiCodeName } from '../errors/multiCodes.js';
import { FakeSockets } from './FakeSockets.js';
import {
  type RouteMatcher,
  type RouteScript,
  RouteTable,
  type SentRequest,
  sentRequest,
} from './RouteTable.js';
import { type ExchangeHost, ScriptedExchange } from './ScriptedExchange.js';
import { scriptedResult } from './scriptedResult.js';

/**
 * A MultiDriver without libcurl, on the virtual time of a scheduler. It behaves as libcurl's
 * multi_socket API does towards the engine: a transfer added asks for a timer of 0; on that
 * expiry it "connects" (announces a socket, lowest free fd first, so numbers come back as on a
 * real system) and subscribes its route's script; what the script emits makes the socket
 * readable, and the action on it delivers the response head and body through the same transfer
 * protocol the native driver reports to; at the end the socket is removed and the result waits
 * for info_read. `timeoutMs` is enforced with libcurl's one timer.
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
  /** Every request sent, in order. */
  readonly requests: SentRequest[] = [];
  runningHandles = 0;

  private callbacks: MultiCallbacks | undefined;
  private readonly routes = new RouteTable();
  private readonly sockets = new FakeSockets();
  /** Added, waiting for the kick timer to connect. */
  private readonly starting: ScriptedExchange[] = [];
  /** Connected, by fd. */
  private readonly connected = new Map<number, ScriptedExchange>();
  private readonly exchanges = new Map<DriverTransfer, ScriptedExchange>();
  private readonly done: Array<{ transfer: DriverTransfer; result: TransferResult }> = [];
  private armedAt: number | undefined;

  constructor(private readonly scheduler: SchedulerLike) {}

  /** Answers requests that match `matcher` with `script`; see `TestCurl.route`. */
  route(matcher: RouteMatcher, script: RouteScript): void {
    this.routes.add(matcher, script);
  }

  // --- MultiDriver ----------------------------------------------------------------------------

  open(callbacks: MultiCallbacks): void {
    this.callbacks = callbacks;
    this.armedAt = undefined;
  }

  add(transfer: DriverTransfer): void {
    const { sink } = transfer.request;
    // As the native driver does: the sink file is opened (created, or truncated) before anything is sent.
    if (sink) {
      try {
        closeSync(openSync(sink.path, sink.append ? 'a' : 'w'));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new CurlError(
          CURLE.WRITE_ERROR,
          `cannot open the file to write: ${reason}`,
          transfer.request.url,
        );
      }
    }
    const sent = sentRequest(transfer.request);
    this.requests.push(sent);
    const now = this.scheduler.now();
    const { timeoutMs } = transfer.request;
    const deadline = timeoutMs ? now + timeoutMs : Number.POSITIVE_INFINITY;
    const exchange = new ScriptedExchange(transfer, sent, now, deadline, this.host);
    this.exchanges.set(transfer, exchange);
    this.runningHandles++;
    this.starting.push(exchange);
    this.updateTimer();
  }

  remove(transfer: DriverTransfer): void {
    const exchange = this.exchanges.get(transfer);
    if (!exchange) return;
    this.exchanges.delete(transfer);
    this.runningHandles = Math.max(0, this.runningHandles - 1);
    const index = this.starting.indexOf(exchange);
    if (index >= 0) this.starting.splice(index, 1);
    this.hangUp(exchange);
    this.updateTimer();
  }

  resume(transfer: DriverTransfer): void {
    const exchange = this.exchanges.get(transfer);
    // As libcurl does on unpause: what was held back is read on the next action.
    if (exchange?.hasPending) this.sockets.ready(exchange.fd, CURL_CSELECT_IN);
  }

  socketAction(fd: number, events: number): MultiCode {
    if (fd === CURL_SOCKET_TIMEOUT) {
      this.armedAt = undefined;
      for (const exchange of this.starting.splice(0)) this.connect(exchange);
      const now = this.scheduler.now();
      for (const exchange of [...this.connected.values()]) {
        if (exchange.deadline <= now) {
          const message = `Operation timed out after ${now - exchange.startedAt} milliseconds`;
          this.finished(exchange, CURLE.OPERATION_TIMEDOUT, message);
        }
      }
    } else if ((events & (CURL_CSELECT_IN | CURL_CSELECT_ERR)) !== 0) {
      this.connected.get(fd)?.deliver();
    }
    this.updateTimer();
    return CURLM.OK;
  }

  drain(onDone: (transfer: DriverTransfer, result: TransferResult) => void): void {
    for (let entry = this.done.shift(); entry; entry = this.done.shift())
      onDone(entry.transfer, entry.result);
  }

  socketAll(): MultiCode {
    return this.socketAction(CURL_SOCKET_TIMEOUT, 0);
  }

  readiness(fd: number, interest: Observable<number>): Observable<number> {
    return this.sockets.readiness(fd, interest);
  }

  describeMultiCode(code: MultiCode): string {
    return `scripted ${multiCodeName(code)}`;
  }

  /** Easy handles: attached to transfers, and pooled (always 0 here). */
  handleCounts(): {
    /** Handles of transfers in flight. */
    attached: number;
    /** Idle handles. */
    pooled: number;
  } {
    return { attached: this.exchanges.size, pooled: 0 };
  }

  close(): void {
    for (const exchange of this.exchanges.values()) this.hangUp(exchange);
    this.exchanges.clear();
    this.starting.length = 0;
    this.done.length = 0;
    this.runningHandles = 0;
    this.armedAt = undefined;
  }

  // --- the simulated transport ----------------------------------------------------------------

  /** What the exchanges report to. */
  private readonly host: ExchangeHost = {
    readable: (exchange) => this.sockets.ready(exchange.fd, CURL_CSELECT_IN),
    finished: (exchange, code, message) => this.finished(exchange, code, message),
  };

  private finished(exchange: ScriptedExchange, code: number, message: string): void {
    const connects = exchange.fd >= 0 ? 1 : 0;
    this.hangUp(exchange);
    if (!this.exchanges.delete(exchange.transfer)) return;
    this.runningHandles = Math.max(0, this.runningHandles - 1);
    const result = scriptedResult(exchange.transfer, {
      code,
      message,
      status: exchange.status,
      httpVersion: exchange.httpVersion,
      downloadedBytes: exchange.downloadedBytes,
      connects,
      elapsed: this.scheduler.now() - exchange.startedAt,
    });
    this.done.push({ transfer: exchange.transfer, result });
  }

  /** The kick timer: the engine's expiry starts what was added. */
  private connect(exchange: ScriptedExchange): void {
    const { sent } = exchange;
    const script = this.routes.match(sent);
    if (!script) {
      this.finished(exchange, CURLE.COULDNT_CONNECT, `no route for ${sent.method} ${sent.url}`);
      return;
    }
    const fd = this.sockets.allocate();
    this.connected.set(fd, exchange);
    this.callbacks?.socket(fd, CURL_POLL_IN);
    exchange.connect(fd, script);
  }

  /** Unsubscribes the script, closes the fake socket and frees its number. */
  private hangUp(exchange: ScriptedExchange): void {
    const { fd } = exchange;
    exchange.hangUp();
    if (fd >= 0 && this.connected.get(fd) === exchange) {
      this.connected.delete(fd);
      this.sockets.free(fd);
      this.callbacks?.socket(fd, CURL_POLL_REMOVE);
    }
  }

  /** libcurl's one timer: 0 while transfers wait to start, else the nearest deadline. */
  private updateTimer(): void {
    const now = this.scheduler.now();
    let next = this.starting.length > 0 ? now : Number.POSITIVE_INFINITY;
    for (const exchange of this.connected.values()) next = Math.min(next, exchange.deadline);
    if (next === Number.POSITIVE_INFINITY) {
      if (this.armedAt !== undefined) {
        this.armedAt = undefined;
        this.callbacks?.timer(-1);
      }
    } else if (next !== this.armedAt) {
      this.armedAt = next;
      this.callbacks?.timer(Math.max(0, next - now));
    }
  }
}
