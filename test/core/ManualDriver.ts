import type { Observable, SchedulerLike } from 'rxjs';
import type { DriverTransfer, MultiCallbacks, MultiCode, MultiDriver } from '../../src/core/MultiDriver.js';
import type { TransferResult } from '../../src/core/types.js';
import { CURLM, multiCodeName } from '../../src/errors/multiCodes.js';
import { FakeSockets } from '../../src/testing/FakeSockets.js';
import { scriptedResult } from '../../src/testing/scriptedResult.js';

/** One call of curl_multi_socket_action, as the driver saw it: [time, fd, events]. */
export type ActionRecord = [time: number, fd: number, events: number];
/** A change of what the engine watches on an fd: [time, fd, CURL_POLL_* interest or 'closed']. */
export type WatchRecord = [time: number, fd: number, interest: number | 'closed'];

/**
 * A MultiDriver for the engine's own marble tests: the test plays libcurl's part by hand
 * (`socket`, `timer`, `ready`, `complete`) and reads what the engine did (`actions`, `watches`).
 */
export class ManualDriver implements MultiDriver {
  readonly actions: ActionRecord[] = [];
  readonly watches: WatchRecord[] = [];
  runningHandles = 0;
  private callbacks: MultiCallbacks | undefined;
  private readonly sockets = new FakeSockets();
  private readonly added = new Set<DriverTransfer>();
  private readonly done: Array<{ transfer: DriverTransfer; result: TransferResult }> = [];
  private failNext: MultiCode = CURLM.OK;

  constructor(private readonly scheduler: SchedulerLike) {
    this.sockets.onWatch = (fd, interest) => this.watches.push([scheduler.now(), fd, interest]);
  }

  /** As if libcurl called CURLMOPT_SOCKETFUNCTION. */
  socket(fd: number, what: number): void {
    this.callbacks?.socket(fd, what);
  }

  /** As if libcurl called CURLMOPT_TIMERFUNCTION. */
  timer(ms: number): void {
    this.callbacks?.timer(ms);
  }

  /** The socket `fd` became ready. */
  ready(fd: number, events: number): void {
    this.sockets.ready(fd, events);
  }

  /** Queues a finished transfer for the next info_read drain. */
  complete(transfer: DriverTransfer, code: number, status = 200): void {
    this.added.delete(transfer);
    this.runningHandles = Math.max(0, this.runningHandles - 1);
    const message = code === 0 ? '' : `scripted error ${code}`;
    const outcome = {
      code,
      message,
      status,
      httpVersion: '1.1',
      downloadedBytes: 0,
      connects: 1,
      elapsed: 0,
    };
    this.done.push({ transfer, result: scriptedResult(transfer, outcome) });
  }

  /** Transfers added and not yet completed or removed. */
  get transfers(): DriverTransfer[] {
    return [...this.added];
  }

  /** The next curl_multi_socket_action returns this CURLMcode. */
  failNextAction(code: MultiCode): void {
    this.failNext = code;
  }

  open(callbacks: MultiCallbacks): void {
    this.callbacks = callbacks;
  }

  add(transfer: DriverTransfer): void {
    this.added.add(transfer);
    this.runningHandles++;
  }

  remove(transfer: DriverTransfer): void {
    if (this.added.delete(transfer)) this.runningHandles = Math.max(0, this.runningHandles - 1);
  }

  resume(): void {}

  socketAction(fd: number, events: number): MultiCode {
    this.actions.push([this.scheduler.now(), fd, events]);
    const code = this.failNext;
    this.failNext = CURLM.OK;
    return code;
  }

  drain(onDone: (transfer: DriverTransfer, result: TransferResult) => void): void {
    for (let entry = this.done.shift(); entry; entry = this.done.shift())
      onDone(entry.transfer, entry.result);
  }

  socketAll(): MultiCode {
    return this.socketAction(-1, 0);
  }

  readiness(fd: number, interest: Observable<number>): Observable<number> {
    return this.sockets.readiness(fd, interest);
  }

  describeMultiCode(code: MultiCode): string {
    return `manual ${multiCodeName(code)}`;
  }

  handleCounts(): { attached: number; pooled: number } {
    return { attached: this.added.size, pooled: 0 };
  }

  close(): void {
    this.added.clear();
    this.done.length = 0;
    this.runningHandles = 0;
  }
}
