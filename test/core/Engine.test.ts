import test, { type ExecutionContext } from 'ava';
import { asyncScheduler, map, of, type Subscription } from 'rxjs';
import type { CurlRequest } from '../../src/api/CurlRequest.js';
import { normalizeRequest } from '../../src/api/normalizeRequest.js';
import { Engine } from '../../src/core/Engine.js';
import type { DriverTransfer } from '../../src/core/MultiDriver.js';
import {
  CURL_CSELECT_ERR,
  CURL_CSELECT_IN,
  CURL_CSELECT_OUT,
  CURL_POLL_IN,
  CURL_POLL_INOUT,
  CURL_POLL_OUT,
  CURL_POLL_REMOVE,
} from '../../src/core/socketEvents.js';
import { timerExpiry } from '../../src/core/timerExpiry.js';
import type { TransferEvent, TransferResult } from '../../src/core/types.js';
import { CurlError, CurlMultiError } from '../../src/errors/CurlError.js';
import { CURLE } from '../../src/errors/curlCodes.js';
import { CURLM } from '../../src/errors/multiCodes.js';
import { ScriptedDriver } from '../../src/testing/ScriptedDriver.js';
import { marbles } from '../helpers/marbles.js';
import { ManualDriver } from './ManualDriver.js';

const TIMEOUT = -1;

function setup(t: ExecutionContext) {
  const scheduler = marbles(t);
  const driver = new ManualDriver(scheduler);
  const engine = new Engine(driver, scheduler);
  const transfer = (url: string | CurlRequest) =>
    engine.transfer(() => normalizeRequest(url, { defaults: undefined, multiplex: true }));
  /** Runs `work` at virtual time `frame`. */
  const at = (frame: number, work: () => void) => scheduler.schedule(work, frame);
  return { scheduler, driver, engine, transfer, at };
}

const actionsOf = (driver: ManualDriver) => driver.actions;

test('timer: 0 expires on the same frame, n after n frames, -1 cancels, a new request replaces the old', (t) => {
  const { scheduler, driver, at } = setup(t);
  scheduler.run(() => {
    at(1, () => driver.timer(0));
    at(2, () => driver.timer(5)); // expires at 7
    at(10, () => driver.timer(5)); // replaced at 12 by 10 frames: expires at 22, not 15
    at(12, () => driver.timer(10));
    at(30, () => driver.timer(3)); // cancelled before it expires
    at(31, () => driver.timer(-1));
  });
  t.deepEqual(actionsOf(driver), [
    [1, TIMEOUT, 0],
    [7, TIMEOUT, 0],
    [22, TIMEOUT, 0],
  ]);
});

test('timer: stats say whether it is armed', (t) => {
  const { scheduler, driver, engine, at } = setup(t);
  const armed: boolean[] = [];
  scheduler.run(() => {
    at(1, () => driver.timer(4));
    at(2, () => armed.push(engine.stats().timerArmed));
    at(6, () => armed.push(engine.stats().timerArmed));
  });
  t.deepEqual(armed, [true, false]);
});

test('sockets: interest added, changed and removed; readiness becomes actions with the real bitmask', (t) => {
  const { scheduler, driver, engine, at } = setup(t);
  const sockets: number[] = [];
  scheduler.run(() => {
    at(1, () => driver.socket(7, CURL_POLL_IN));
    at(2, () => driver.ready(7, CURL_CSELECT_IN));
    at(3, () => driver.ready(7, CURL_CSELECT_OUT)); // not watched for writing: no action
    at(4, () => driver.socket(7, CURL_POLL_INOUT));
    at(5, () => driver.ready(7, CURL_CSELECT_IN | CURL_CSELECT_OUT));
    at(6, () => sockets.push(engine.stats().sockets));
    at(7, () => driver.socket(7, CURL_POLL_REMOVE));
    at(8, () => driver.ready(7, CURL_CSELECT_IN)); // no longer watched
    at(9, () => sockets.push(engine.stats().sockets));
  });
  t.deepEqual(driver.watches, [
    [1, 7, CURL_POLL_IN],
    [4, 7, CURL_POLL_INOUT],
    [7, 7, 'closed'],
  ]);
  t.deepEqual(actionsOf(driver), [
    [2, 7, CURL_CSELECT_IN],
    [5, 7, CURL_CSELECT_IN | CURL_CSELECT_OUT],
  ]);
  t.deepEqual(sockets, [1, 0]);
});

test('sockets: an unchanged interest is not watched again', (t) => {
  const { scheduler, driver, at } = setup(t);
  scheduler.run(() => {
    at(1, () => driver.socket(5, CURL_POLL_OUT));
    at(2, () => driver.socket(5, CURL_POLL_OUT));
    at(3, () => driver.socket(5, CURL_POLL_IN));
  });
  t.deepEqual(
    driver.watches.map(([time, , interest]) => [time, interest]),
    [
      [1, CURL_POLL_OUT],
      [3, CURL_POLL_IN],
    ],
  );
});

test('sockets: a REMOVE for an unknown fd, a second REMOVE and a reused fd number are all harmless', (t) => {
  const { scheduler, driver, engine, at } = setup(t);
  scheduler.run(() => {
    at(1, () => driver.socket(9, CURL_POLL_REMOVE)); // never announced
    at(2, () => driver.socket(4, CURL_POLL_IN));
    at(3, () => driver.socket(4, CURL_POLL_REMOVE));
    at(3, () => driver.socket(4, CURL_POLL_REMOVE)); // duplicate
    at(3, () => driver.socket(4, CURL_POLL_OUT)); // the number comes back at once for a new connection
    at(4, () => driver.ready(4, CURL_CSELECT_OUT));
    at(5, () => driver.ready(4, CURL_CSELECT_IN)); // the old interest is gone with the old socket
  });
  t.deepEqual(driver.watches, [
    [2, 4, CURL_POLL_IN],
    [3, 4, 'closed'],
    [3, 4, CURL_POLL_OUT],
  ]);
  t.deepEqual(actionsOf(driver), [[4, 4, CURL_CSELECT_OUT]]);
  t.is(engine.stats().sockets, 1);
});

test('sockets: errors are passed on as CURL_CSELECT_ERR, and actions keep their order', (t) => {
  const { scheduler, driver, at } = setup(t);
  scheduler.run(() => {
    at(1, () => {
      driver.socket(3, CURL_POLL_IN);
      driver.socket(8, CURL_POLL_OUT);
    });
    at(2, () => {
      driver.ready(8, CURL_CSELECT_OUT);
      driver.ready(3, CURL_CSELECT_ERR);
      driver.timer(0);
    });
  });
  t.deepEqual(actionsOf(driver), [
    [2, 8, CURL_CSELECT_OUT],
    [2, 3, CURL_CSELECT_ERR],
    [2, TIMEOUT, 0],
  ]);
});

test('info_read: a finished transfer reaches results$ and its own Observable after the action', (t) => {
  const { scheduler, driver, engine, transfer, at } = setup(t);
  scheduler.run(({ expectObservable }) => {
    const results: TransferResult[] = [];
    engine.results$.subscribe((r) => results.push(r));
    const events$ = transfer('http://example.test/a');
    at(3, () => {
      driver.complete(driver.transfers[0], 0, 204);
      driver.timer(0); // completions are only read after an action
    });
    expectObservable(events$.pipe(mapTypes())).toBe('---(d|)', { d: 'done:204' });
    at(4, () => {
      t.is(results.length, 1);
      t.is(results[0].status, 204);
      t.true(results[0].ok);
    });
  });
});

test('info_read: a libcurl error code errors the transfer with CurlError, and still reaches results$', (t) => {
  const { scheduler, driver, engine, transfer, at } = setup(t);
  const results: TransferResult[] = [];
  let error: unknown;
  scheduler.run(() => {
    engine.results$.subscribe((r) => results.push(r));
    transfer('http://example.test/a').subscribe({ error: (e) => (error = e) });
    at(2, () => {
      driver.complete(driver.transfers[0], CURLE.OPERATION_TIMEDOUT);
      driver.timer(0);
    });
  });
  t.true(error instanceof CurlError);
  t.is((error as CurlError).code, 28);
  t.is((error as CurlError).codeName, 'CURLE_OPERATION_TIMEDOUT');
  t.is(results.length, 1);
  t.false(results[0].ok);
});

test('timeout backstop: a transfer libcurl never ends errors with 28 at timeoutMs + 250 and leaves the multi', (t) => {
  const { scheduler, driver, engine, transfer } = setup(t);
  scheduler.run(({ expectObservable }) => {
    const stuck$ = transfer({ url: 'http://example.test/pending', timeoutMs: 1000 });
    const message = 'Operation timed out after 1000 milliseconds (still waiting for a connection)';
    const error = new CurlError(28, message, 'http://example.test/pending');
    expectObservable(stuck$.pipe(mapTypes())).toBe('1250ms #', undefined, error);
  });
  t.is(driver.transfers.length, 0, 'removed from the multi');
  t.is(engine.stats().transfers, 0);
});

test('timeout backstop: it first gives libcurl a timeout action, and libcurl ends a transfer it runs itself', (t) => {
  // An event loop busy past the grace (libcurl counts from its first action, a turn later) must not
  // let the backstop end a transfer that libcurl is about to time out with its own result.
  const { scheduler, driver, transfer, at } = setup(t);
  let error: CurlError | undefined;
  scheduler.run(() => {
    transfer({ url: 'http://example.test/slow', timeoutMs: 1000 }).subscribe({ error: (e) => (error = e) });
    at(1249, () => driver.complete(driver.transfers[0], CURLE.OPERATION_TIMEDOUT)); // read at the next action
  });
  t.deepEqual(actionsOf(driver), [[1250, -1, 0]]);
  t.is(error?.code, CURLE.OPERATION_TIMEDOUT);
  t.truthy(error?.result, "libcurl's own result, not the backstop's error");
  t.is(error?.message, 'scripted error 28');
});

test('timeout backstop: a transfer with a response is one libcurl runs; the backstop leaves it to libcurl', (t) => {
  const { scheduler, driver, transfer, at } = setup(t);
  const seen: string[] = [];
  let error: CurlError | undefined;
  scheduler.run(() => {
    transfer({ url: 'http://example.test/late', timeoutMs: 1000 }).subscribe({
      next: (e) => seen.push(`${scheduler.now()}:${e.type}`),
      error: (e) => (error = e),
    });
    const head = { status: 200, httpVersion: '1.1', headers: {}, url: 'http://example.test/late' };
    at(10, () => driver.transfers[0].response(head));
    // libcurl started late (a busy event loop): its own timeout ends it after the backstop's time.
    at(1600, () => {
      seen.push(`${scheduler.now()}:still running`);
      driver.complete(driver.transfers[0], CURLE.OPERATION_TIMEDOUT);
      driver.timer(0);
    });
  });
  t.deepEqual(seen, ['10:response', '1600:still running']);
  t.is(error?.code, CURLE.OPERATION_TIMEDOUT);
  t.truthy(error?.result, "libcurl's own result");
});

test('timeout backstop: a transfer libcurl ends in time is not touched by it', (t) => {
  const { scheduler, driver, transfer, at } = setup(t);
  scheduler.run(({ expectObservable }) => {
    const events$ = transfer({ url: 'http://example.test/a', timeoutMs: 1000 });
    at(900, () => {
      driver.complete(driver.transfers[0], 0, 200);
      driver.timer(0);
    });
    expectObservable(events$.pipe(mapTypes())).toBe('900ms (d|)', { d: 'done:200' });
  });
});

test('cancellation: unsubscribing removes the transfer from the multi and emits nothing more', (t) => {
  const { scheduler, driver, engine, transfer, at } = setup(t);
  const events: string[] = [];
  scheduler.run(() => {
    let sub: Subscription | undefined;
    at(0, () => (sub = transfer('http://example.test/a').subscribe((e) => events.push(e.type))));
    at(1, () => t.is(driver.transfers.length, 1));
    at(2, () => sub?.unsubscribe());
    at(3, () => {
      t.is(driver.transfers.length, 0);
      t.is(engine.stats().transfers, 0);
    });
  });
  t.deepEqual(events, []);
});

test('a socket_action error fails every transfer in flight, and the engine carries on with a fresh multi', (t) => {
  const { scheduler, driver, engine, transfer, at } = setup(t);
  const errors: unknown[] = [];
  const running: number[] = [];
  scheduler.run(() => {
    engine.running$.subscribe((n) => running.push(n));
    transfer('http://example.test/a').subscribe({ error: (e) => errors.push(e) });
    transfer('http://example.test/b').subscribe({ error: (e) => errors.push(e) });
    at(1, () => driver.timer(0));
    at(2, () => {
      driver.failNextAction(CURLM.INTERNAL_ERROR);
      driver.timer(0);
    });
    at(3, () => driver.socket(6, CURL_POLL_IN)); // the fresh multi is watched again
    at(4, () => driver.ready(6, CURL_CSELECT_IN));
  });
  t.is(errors.length, 2);
  for (const error of errors) {
    t.true(error instanceof CurlMultiError);
    t.is((error as CurlMultiError).code, 'MULTI_ERROR');
    t.is((error as CurlMultiError).multiCode, CURLM.INTERNAL_ERROR);
    t.is((error as CurlMultiError).codeName, 'CURLM_INTERNAL_ERROR');
  }
  t.is(engine.stats().transfers, 0);
  t.deepEqual(actionsOf(driver).slice(-1), [[4, 6, CURL_CSELECT_IN]]);
  t.deepEqual(running, [0, 2, 0]); // running$ falls back to 0 with the fresh multi
});

test('no multi call is made from inside an action: unsubscribing and subscribing in a data handler are deferred', (t) => {
  const scheduler = marbles(t);
  const driver = new ReentryRecordingDriver(scheduler);
  const engine = new Engine(driver, scheduler);
  const at = (frame: number, work: () => void) => scheduler.schedule(work, frame);
  const curlUrl = (path: string) =>
    normalizeRequest(`http://example.test/${path}`, { defaults: undefined, multiplex: true });
  let secondDone = false;
  scheduler.run(({ cold }) => {
    driver.route(
      'http://example.test/a',
      cold('-r', { r: { status: 200, body: cold('-x-y|', { x: 'x', y: 'y' }) } }),
    );
    driver.route('http://example.test/b', cold('-r', { r: { status: 200, body: 'b' } }));
    const sub = engine
      .transfer(() => curlUrl('a'))
      .subscribe((event) => {
        if (event.type !== 'data') return;
        sub.unsubscribe();
        engine.transfer(() => curlUrl('b')).subscribe({ complete: () => (secondDone = true) });
      });
    at(10, () => t.is(engine.stats().transfers, 0));
  });
  t.deepEqual(driver.recursiveCalls, []);
  t.true(secondDone);
});

test('close(): transfers in flight error with ABORTED; results$ and running$ complete; later transfers fail', async (t) => {
  const { driver, engine, transfer } = setup(t);
  let error: unknown;
  let resultsDone = false;
  let runningDone = false;
  engine.results$.subscribe({ complete: () => (resultsDone = true) });
  engine.running$.subscribe({ complete: () => (runningDone = true) });
  transfer('http://example.test/a').subscribe({ error: (e) => (error = e) });
  t.is(driver.transfers.length, 1);
  await engine.close();
  await engine.close(); // idempotent
  t.is((error as CurlError).code, 'ABORTED');
  t.true(resultsDone);
  t.true(runningDone);
  let late: unknown;
  transfer('http://example.test/b').subscribe({ error: (e) => (late = e) });
  t.is((late as CurlError).code, 'ABORTED');
});

test('timer 0 on the default scheduler expires asynchronously, on the next turn, before a 1 ms timer', async (t) => {
  const order: string[] = [];
  await new Promise<void>((resolve) => {
    setTimeout(() => {
      order.push('timeout');
      resolve();
    }, 1);
    timerExpiry(of(0), asyncScheduler).subscribe(() => order.push('next turn'));
    order.push('sync');
  });
  t.deepEqual(order, ['sync', 'next turn', 'timeout']);
});

/** A scripted driver that records every multi call made from inside an action (libcurl refuses them). */
class ReentryRecordingDriver extends ScriptedDriver {
  readonly recursiveCalls: string[] = [];
  private inAction = false;

  override socketAction(fd: number, events: number): number {
    this.inAction = true;
    try {
      return super.socketAction(fd, events);
    } finally {
      this.inAction = false;
    }
  }

  override add(transfer: DriverTransfer): void {
    if (this.inAction) this.recursiveCalls.push(`add ${transfer.id}`);
    super.add(transfer);
  }

  override remove(transfer: DriverTransfer): void {
    if (this.inAction) this.recursiveCalls.push(`remove ${transfer.id}`);
    super.remove(transfer);
  }

  override resume(transfer: DriverTransfer): void {
    if (this.inAction) this.recursiveCalls.push(`resume ${transfer.id}`);
    super.resume(transfer);
  }
}

function mapTypes() {
  return map((e: TransferEvent) => (e.type === 'done' ? `done:${e.result.status}` : e.type));
}
