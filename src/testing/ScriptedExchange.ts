import { appendFileSync } from 'node:fs';
import { isObservable, type Observable, type Subscription } from 'rxjs';
import { lendBytes } from '../core/LentChunk.js';
import type { DriverTransfer } from '../core/MultiDriver.js';
import { CURLE, curlCodeName } from '../errors/curlCodes.js';
import type { ScriptedResponse, SentRequest } from './RouteTable.js';

type Step =
  | { kind: 'head'; response: ScriptedResponse }
  | { kind: 'data'; chunk: Buffer }
  | { kind: 'end' }
  | { kind: 'fail'; code: number; message: string };

/** What an exchange needs of the scripted transport around it. */
export interface ExchangeHost {
  /** The exchange's socket has something to read: an action on it will call `deliver`. */
  readable(exchange: ScriptedExchange): void;
  /** The exchange is over with `code`; its socket is closed already. */
  finished(exchange: ScriptedExchange, code: number, message: string): void;
}

/**
 * One scripted transfer on its fake socket: subscribes the route's script, queues what the script
 * produces, and hands it to the transfer in order when an action reads the socket — as libcurl
 * reads a real one.
 */
export class ScriptedExchange {
  /** Its fake socket once connected, -1 before. */
  fd = -1;
  status = 0;
  httpVersion = '';
  downloadedBytes = 0;
  private readonly pending: Step[] = [];
  private script: Subscription | undefined;
  private body: Subscription | undefined;

  constructor(
    readonly transfer: DriverTransfer,
    readonly sent: SentRequest,
    readonly startedAt: number,
    /** When libcurl's timeoutMs would end it, in the scheduler's time. */
    readonly deadline: number,
    private readonly host: ExchangeHost,
  ) {}

  /** Connected on `fd`: the script runs from now on. */
  connect(fd: number, script: () => Observable<ScriptedResponse>): void {
    this.fd = fd;
    let responses: Observable<ScriptedResponse>;
    try {
      responses = script();
    } catch (err) {
      this.push({ kind: 'fail', code: CURLE.RECV_ERROR, message: `route script threw: ${String(err)}` });
      return;
    }
    let answered = false;
    this.script = responses.subscribe({
      next: (response) => {
        if (answered) return;
        answered = true;
        this.push({ kind: 'head', response });
      },
      error: (err) =>
        this.push({ kind: 'fail', code: CURLE.RECV_ERROR, message: `script failed: ${String(err)}` }),
      complete: () => {
        if (!answered)
          this.push({ kind: 'fail', code: CURLE.GOT_NOTHING, message: 'Empty reply from server' });
      },
    });
  }

  /** Something is held back for the next read. */
  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** The socket is read: hand over, in order, what the script produced, unless the transfer is paused. */
  deliver(): void {
    const { transfer } = this;
    while (this.pending.length > 0 && this.fd >= 0 && !transfer.paused) {
      const step = this.pending.shift()!;
      switch (step.kind) {
        case 'head':
          this.answer(step.response);
          break;
        case 'data':
          this.write(step.chunk);
          break;
        case 'end':
          this.host.finished(this, CURLE.OK, '');
          break;
        case 'fail':
          this.host.finished(this, step.code, step.message);
          break;
      }
    }
  }

  /** Unsubscribes the script and drops what it produced. */
  hangUp(): void {
    this.script?.unsubscribe();
    this.body?.unsubscribe();
    this.script = undefined;
    this.body = undefined;
    this.pending.length = 0;
    this.fd = -1;
  }

  /** A body chunk: to the transfer, or to its sink file as libcurl's fwrite would (download()). */
  private write(chunk: Buffer): void {
    this.downloadedBytes += chunk.length;
    const { sink } = this.transfer.request;
    if (sink) appendFileSync(sink.path, chunk);
    else this.transfer.data(lendBytes(chunk));
  }

  private push(step: Step): void {
    this.pending.push(step);
    this.host.readable(this);
  }

  private answer(response: ScriptedResponse): void {
    if ('error' in response) {
      this.host.finished(
        this,
        response.error,
        response.message ?? `scripted ${curlCodeName(response.error)}`,
      );
      return;
    }
    const { transfer } = this;
    this.status = response.status;
    this.httpVersion = response.httpVersion ?? '1.1';
    transfer.response({
      status: response.status,
      httpVersion: this.httpVersion,
      headers: lowerCaseKeys(response.headers ?? {}),
      url: this.sent.url,
    });
    const { body } = response;
    if (isObservable(body)) {
      this.body = body.subscribe({
        next: (chunk) => this.push({ kind: 'data', chunk: toBuffer(chunk) }),
        error: (err) =>
          this.push({ kind: 'fail', code: CURLE.RECV_ERROR, message: `body failed: ${String(err)}` }),
        complete: () => this.push({ kind: 'end' }),
      });
      return;
    }
    if (body !== undefined && this.sent.method !== 'HEAD') {
      const chunk = toBuffer(body);
      if (chunk.length > 0) this.write(chunk);
    }
    this.host.finished(this, CURLE.OK, '');
  }
}

function lowerCaseKeys(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function toBuffer(chunk: string | Uint8Array): Buffer {
  return typeof chunk === 'string'
    ? Buffer.from(chunk)
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
