import {
  BehaviorSubject,
  map,
  merge,
  Observable,
  type SchedulerLike,
  Subject,
  type Subscription,
} from 'rxjs';
import { CurlError, CurlMultiError } from '../errors/CurlError.js';
import { CURLE } from '../errors/curlCodes.js';
import { CURLM } from '../errors/multiCodes.js';
import { AbortListeners } from './AbortListeners.js';
import { DenseList } from './DenseList.js';
import { publishCancel, publishStart } from './diagnostics.js';
import type { DriverTransfer, MultiCode, MultiDriver } from './MultiDriver.js';
import { MAX_TIMER_MS } from './maxTimerMs.js';
import type { NormalizedRequest } from './NormalizedRequest.js';
import { PendingWork } from './PendingWork.js';
import { SubscriberHandler } from './SubscriberHandler.js';
import { CURL_SOCKET_TIMEOUT } from './socketEvents.js';
import { socketReadiness } from './socketReadiness.js';
import type { TransferHandler } from './TransferHandler.js';
import { TransferJob } from './TransferJob.js';
import { timerExpiry } from './timerExpiry.js';
import type { CurlStats, TransferEvent, TransferResult } from './types.js';

// An action is one number, so the action stream allocates nothing per event:
// fd * 8 + CURL_CSELECT_* bits, or -1 for a timer expiry.
const TIMEOUT_ACTION = -1;
/** How long after its timeoutMs a transfer libcurl has not ended is ended by the engine. */
const TIMEOUT_BACKSTOP_GRACE_MS = 250;
/** Transfer ids are unique in the process: diagnostics subscribers see the transfers of every Curl. */
let nextId = 1;

/**
 * The reactive multi_socket engine. Socket requests become per-fd readiness Observables, timer
 * requests an expiry Observable; both merge into one action stream, the only caller of
 * curl_multi_socket_action. After every action it drains curl_multi_info_read into `results$`
 * and each transfer's own Observable.
 *
 * Anything a user does while an action runs (inside a libcurl callback, or in a handler of an
 * event emitted from one) that would call back into libcurl is deferred to the end of the action.
 */
export class Engine {
  readonly results$ = new Subject<TransferResult>();
  readonly running$ = new BehaviorSubject<number>(0);

  private readonly jobs = new DenseList<TransferJob>();
  private busy = false;
  private readonly deferred: Array<() => void> = [];
  private pipeline: Subscription | undefined;
  private sockets = 0;
  private readonly abortListeners = new AbortListeners();
  /** Files of this Curl's transfers still being closed or removed: close() waits for them. */
  readonly pendingWork = new PendingWork();
  private timerArmed = false;
  private callbackFailure: unknown = undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly driver: MultiDriver,
    private readonly scheduler: SchedulerLike,
  ) {
    this.open();
  }

  /** A cold Observable of one transfer; `prepare` runs at subscription and may throw a CurlError. */
  transfer(prepare: () => NormalizedRequest): Observable<TransferEvent> {
    return new Observable<TransferEvent>((subscriber) => {
      let request: NormalizedRequest;
      try {
        request = prepare();
      } catch (err) {
        subscriber.error(err);
        return;
      }
      const job = this.start(request, new SubscriberHandler(subscriber));
      return job && (() => this.cancel(job));
    });
  }

  /**
   * Starts a transfer that reports to `handler`; returns it, or undefined when it was refused at
   * once (the Curl is closed, the signal already aborted), which `handler.onError` was told.
   */
  start(request: NormalizedRequest, handler: TransferHandler): TransferJob | undefined {
    if (this.closed) {
      handler.onError(CurlError.aborted(request.url, 'the Curl is closed'), undefined);
      return undefined;
    }
    const { signal, timeoutMs } = request;
    if (signal?.aborted) {
      handler.onError(CurlError.aborted(request.url, 'aborted by signal'), undefined);
      return undefined;
    }
    const job = new TransferJob(nextId++, request, handler, this.resume, this.pendingWork);
    this.jobs.add(job);
    publishStart(job.id, request.url, request.method);
    if (signal || this.needsBackstop(timeoutMs)) job.cleanup = this.watchLimits(job);
    this.run(() => this.add(job));
    return job;
  }

  /** The transfer's consumer is gone: it ends silently and leaves the multi. */
  cancel(job: TransferJob): void {
    if (!job.active) return;
    this.forget(job);
    publishCancel(job.id, job.request.url);
    this.run(() => this.remove(job));
  }

  /** curl_multi_socket_all: libcurl re-checks every socket and transfer. Diagnostic only. */
  recheckAll(): void {
    this.run(() => this.turn(TIMEOUT_ACTION, true));
  }

  stats(): CurlStats {
    const handles = this.driver.handleCounts();
    return {
      transfers: this.jobs.size,
      easyHandles: handles.attached,
      pooledHandles: handles.pooled,
      sockets: this.sockets,
      timerArmed: this.timerArmed,
    };
  }

  /**
   * Cancels what is in flight (ABORTED), completes results$ and running$, releases the multi handle;
   * resolves once the files of this Curl's cancelled transfers are closed or removed.
   */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) =>
      this.run(() => {
        this.shutdown();
        resolve();
      }),
    ).then(() => this.pendingWork.settled());
    return this.closing;
  }

  private open(): void {
    // A socket request is one number too, fd * 8 + CURL_POLL_* (0 to 4): a socket callback allocates nothing.
    const socketRequests = new Subject<number>();
    const timerRequests = new Subject<number>();
    this.driver.open({
      socket: (fd, what) => socketRequests.next(fd * 8 + what),
      timer: (ms) => {
        this.timerArmed = ms >= 0;
        timerRequests.next(ms);
      },
      failed: (err) => {
        this.callbackFailure ??= err;
      },
      defer: (op) => this.run(op),
    });
    const readiness$ = socketReadiness(
      socketRequests,
      (fd, interest) => this.driver.readiness(fd, interest),
      (delta) => {
        this.sockets += delta;
      },
    );
    const expiry$ = timerExpiry(timerRequests, this.scheduler).pipe(map(() => TIMEOUT_ACTION));
    this.pipeline = merge(readiness$, expiry$).subscribe((action) => this.act(action));
  }

  private act(action: number): void {
    if (action === TIMEOUT_ACTION) this.timerArmed = false;
    if (this.busy) {
      this.deferred.push(() => this.act(action));
      return;
    }
    this.turn(action, false);
  }

  /** One action and the info_read drain after it; then whatever users asked for meanwhile. */
  private turn(action: number, all: boolean): void {
    this.busy = true;
    let code = 0;
    try {
      code = all
        ? this.driver.socketAll()
        : action === TIMEOUT_ACTION
          ? this.driver.socketAction(CURL_SOCKET_TIMEOUT, 0)
          : this.driver.socketAction(action >> 3, action & 7);
      if (code === 0) this.driver.drain(this.finish);
    } catch (err) {
      // A bug of ours, not the user's: their handlers' errors never reach here. The action
      // stream must not die of it, so treat it as a broken multi handle.
      this.callbackFailure ??= err;
    } finally {
      this.busy = false;
    }
    const failure = this.callbackFailure;
    if (code !== 0 || failure !== undefined) {
      this.callbackFailure = undefined;
      this.recover(code, failure);
    } else {
      this.publishRunning();
    }
    this.flush();
  }

  private publishRunning(): void {
    if (!this.closed && this.running$.value !== this.driver.runningHandles) {
      this.running$.next(this.driver.runningHandles);
    }
  }

  private readonly finish = (transfer: DriverTransfer, result: TransferResult): void => {
    if (!this.jobs.has(transfer)) return; // cancelled while libcurl was finishing it
    const job = transfer;
    this.forget(job);
    this.results$.next(result);
    const { failure } = job;
    if (failure !== undefined) job.settle(undefined, failure);
    else if (result.ok) job.settle(result, undefined);
    else job.settle(undefined, new CurlError(result.code, result.message, result.url, result));
  };

  private readonly resume = (job: TransferJob): void => {
    this.run(() => {
      if (job.active) this.driver.resume(job);
    });
  };

  private add(job: TransferJob): void {
    if (!job.active || this.closed) return;
    try {
      this.driver.add(job);
    } catch (err) {
      this.forget(job);
      job.settle(undefined, err);
    }
  }

  /** The transfer ends here, whatever libcurl says of it later. */
  private forget(job: TransferJob): void {
    job.end();
    this.jobs.delete(job);
  }

  /** Takes an ended transfer out of the multi handle. */
  private remove(job: TransferJob): void {
    this.driver.remove(job);
    // No action may follow a removal (libcurl drops its timer once idle): publish it here.
    this.publishRunning();
  }

  private needsBackstop(timeoutMs: number | undefined): timeoutMs is number {
    return timeoutMs !== undefined && timeoutMs > 0 && timeoutMs + TIMEOUT_BACKSTOP_GRACE_MS <= MAX_TIMER_MS;
  }

  /**
   * What a request asked the engine itself to watch: its AbortSignal, and its timeoutMs as a
   * backstop (libcurl 7.88 never times out a transfer it keeps pending, waiting with PIPEWAIT for a
   * connection that may multiplex: a timer a little after libcurl's own deadline ends it, if
   * libcurl did not). Returns what stops watching.
   */
  private watchLimits(job: TransferJob): () => void {
    const { signal, timeoutMs, url } = job.request;
    const stopListening = signal
      ? this.abortListeners.add(signal, () => this.abort(job, CurlError.aborted(url, 'aborted by signal')))
      : undefined;
    let backstop: Subscription | undefined;
    const arm = (delay: number) => {
      backstop = this.scheduler.schedule(() => this.run(() => this.expire(job, arm)), delay);
    };
    if (this.needsBackstop(timeoutMs)) arm(timeoutMs + TIMEOUT_BACKSTOP_GRACE_MS);
    return () => {
      stopListening?.();
      backstop?.unsubscribe();
    };
  }

  /**
   * The backstop's time has come. libcurl counts its timeout from its first action on the transfer,
   * which an event loop busy after subscribing can put well after the backstop started counting:
   * so libcurl gets a timeout action first and ends the transfer itself (with its TransferResult)
   * if its time is up; a transfer that has a response is one libcurl runs, and its own timer will
   * end it: the backstop looks again a grace later. Only a transfer libcurl keeps pending is ended here.
   */
  private expire(job: TransferJob, rearm: (delay: number) => void): void {
    if (!job.active) return;
    this.turn(TIMEOUT_ACTION, false);
    if (!job.active) return;
    if (job.responded) {
      rearm(TIMEOUT_BACKSTOP_GRACE_MS);
      return;
    }
    const message = `Operation timed out after ${job.request.timeoutMs} milliseconds (still waiting for a connection)`;
    this.abort(job, new CurlError(CURLE.OPERATION_TIMEDOUT, message, job.request.url));
  }

  /**
   * Ends a transfer that libcurl has not ended, with `error`: at once, so that nothing more is
   * reported of it even when this runs inside an action (an abort from a data handler); only its
   * removal from the multi waits for the action's end.
   */
  private abort(job: TransferJob, error: CurlError): void {
    if (!job.active) return;
    this.forget(job);
    this.run(() => this.remove(job));
    job.settle(undefined, error);
  }

  /** The multi handle is unusable: fail every transfer in flight and start over with a fresh one. */
  private recover(multiCode: MultiCode, failure: unknown): void {
    const code = multiCode !== CURLM.OK ? multiCode : CURLM.ABORTED_BY_CALLBACK;
    const reason =
      multiCode !== CURLM.OK
        ? `curl_multi_socket_action failed: ${this.driver.describeMultiCode(code)}`
        : `a libcurl callback failed: ${failure instanceof Error ? failure.message : String(failure)}`;
    const failed = this.closeMulti();
    this.open();
    for (const job of failed) job.settle(undefined, new CurlMultiError(code, reason, job.request.url));
  }

  private shutdown(): void {
    this.closed = true;
    const failed = this.closeMulti();
    for (const job of failed)
      job.settle(undefined, CurlError.aborted(job.request.url, 'the Curl was closed'));
    this.results$.complete();
    this.running$.complete();
  }

  /** Tears the multi handle down; returns the transfers it ended, for the caller to settle. */
  private closeMulti(): TransferJob[] {
    this.pipeline?.unsubscribe();
    this.driver.close();
    this.sockets = 0;
    this.timerArmed = false;
    const jobs = this.jobs.clear();
    for (const job of jobs) job.end();
    if (this.running$.value !== 0) this.running$.next(0);
    return jobs;
  }

  private run(op: () => void): void {
    if (this.busy) this.deferred.push(op);
    else op();
  }

  private flush(): void {
    while (!this.busy && this.deferred.length > 0) this.deferred.shift()!();
  }
}
