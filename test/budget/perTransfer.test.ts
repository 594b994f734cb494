// The per-transfer budget: what one 1 KiB transfer costs in calls into libcurl, C→JS callbacks,
// RxJS subscriptions, bytes allocated and bytes kept into the old generation, each front end on its
// own. Counts, not times: each guard fails when the path grows, whatever the machine's load. The
// figures behind each bound are in the README (Performance, "Per-transfer budget");
// `node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64
// test/budget/fixtures/countPerTransfer.mjs URL MODE 2000` and `node --expose-gc
// test/budget/fixtures/promotedPerTransfer.mjs URL MODE 2000` print them.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { startLoadServer } from '../helpers/loadServer.js';

interface Budget {
  n: number;
  ok: number;
  gcs: number;
  bytesAllocated: number;
  libcurlCallsByName: Record<string, number>;
  callbacksByKind: Record<string, number>;
  subscriptions: number;
}

const TRANSFERS = 2000;
const fixture = fileURLToPath(new URL('fixtures/countPerTransfer.mjs', import.meta.url));
const promotionFixture = fileURLToPath(new URL('fixtures/promotedPerTransfer.mjs', import.meta.url));
/**
 * Bytes of a finished transfer that scavenges move to the old generation. 50–160 measured; 550–700
 * when the engine kept its transfers in a Map and transfer() its events in a WeakMap, which kept
 * every transfer's objects alive until a major GC (DenseList says why).
 */
const PROMOTED_BYTES_BUDGET = 350;

async function measure(t: ExecutionContext, mode: 'transfer' | 'request' | 'all'): Promise<Budget> {
  const server = await startLoadServer();
  t.teardown(() => server.close());
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--expose-gc',
      // A young generation that holds the whole run: nothing is collected while bytes are measured.
      '--min-semi-space-size=64',
      '--max-semi-space-size=64',
      fixture,
      `${server.url}/n/1024`,
      mode,
      String(TRANSFERS),
    ],
    { timeout: 60_000 },
  );
  const budget = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Budget;
  t.log(JSON.stringify(budget));
  t.is(budget.ok, TRANSFERS, 'every transfer answered 200');
  t.is(budget.gcs, 0, 'no collection while bytes were measured');
  return budget;
}

/** Bytes per transfer promoted and kept (promotedPerTransfer.mjs), with the default young generation. */
async function promotedBytes(
  t: ExecutionContext,
  mode: 'transfer' | 'request' | 'all' | 'fresh',
): Promise<number> {
  const server = await startLoadServer();
  t.teardown(() => server.close());
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', promotionFixture, `${server.url}/n/1024`, mode, String(TRANSFERS)],
    { timeout: 60_000 },
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as {
    ok: number;
    majorGcs: number;
    promotedBytes: number;
  };
  t.log(JSON.stringify(result));
  t.is(result.ok, TRANSFERS, 'every transfer answered 200');
  t.is(result.majorGcs, 0, 'no major collection while promotions were measured');
  return result.promotedBytes;
}

function keepsLittle(t: ExecutionContext, promoted: number): void {
  t.true(
    promoted <= PROMOTED_BYTES_BUDGET,
    `${promoted} bytes per finished transfer kept in the old generation (budget ${PROMOTED_BYTES_BUDGET})`,
  );
}

const calls = (b: Budget, name: string) => b.libcurlCallsByName[name] ?? 0;
const callbacks = (b: Budget, kind: string) => b.callbacksByKind[kind] ?? 0;

/** What every front end shares: the engine, the native driver and libcurl. */
function sharedPath(t: ExecutionContext, b: Budget): void {
  // One add and one remove; no option set again for a request of the same shape on a pooled handle.
  t.is(calls(b, 'multi_add_handle'), 1);
  t.is(calls(b, 'multi_remove_handle'), 1);
  for (const name of Object.keys(b.libcurlCallsByName)) {
    if (name.startsWith('easy_setopt') || name === 'easy_reset' || name === 'easy_init')
      t.fail(`${name} is called on the steady path (${calls(b, name)} per transfer)`);
  }
  // The head (status, version, URL) and the result: 13 numbers (NUM_CONNECTS the latest, for
  // `connects`) and 2 strings, read once each.
  t.is(calls(b, 'easy_getinfo.number'), 13);
  t.is(calls(b, 'easy_getinfo.string'), 2);
  // The server sends 4 header lines (Date, Connection, Keep-Alive, Content-Length), and one call ends the list.
  t.is(calls(b, 'easy_nextheader'), 5);
  // libcurl is driven by readiness: a few actions per transfer (more when the machine is busy and
  // bytes arrive in pieces), and after each, info_read until it has nothing: once more per transfer.
  t.true(calls(b, 'multi_socket_action') <= 4, `${calls(b, 'multi_socket_action')} actions per transfer`);
  t.is(Math.round((calls(b, 'multi_info_read') - calls(b, 'multi_socket_action')) * b.n), b.n);
  // C→JS: one write callback for the 1 KiB body, about one timer and a socket call or two.
  t.is(callbacks(b, 'write'), 1);
  t.true(callbacks(b, 'timer') <= 1.5, `${callbacks(b, 'timer')} timer callbacks per transfer`);
  t.true(callbacks(b, 'socket') <= 4, `${callbacks(b, 'socket')} socket callbacks per transfer`);
  t.is(callbacks(b, 'xferinfo'), 0, 'no progress callback unless progress is asked for');
}

test('requestAll(): no subscription per transfer, and the fewest bytes', async (t) => {
  const b = await measure(t, 'all');
  sharedPath(t, b);
  t.true(b.subscriptions < 0.01, `${b.subscriptions} subscriptions per transfer`);
  t.true(b.bytesAllocated <= 7_000, `${b.bytesAllocated} bytes allocated per transfer (budget 7,000)`);
  keepsLittle(t, await promotedBytes(t, 'all'));
});

test('transfer() + mergeMap: two subscriptions per transfer (the transfer and its operator)', async (t) => {
  const b = await measure(t, 'transfer');
  sharedPath(t, b);
  t.true(b.subscriptions <= 2.01, `${b.subscriptions} subscriptions per transfer`);
  t.true(b.bytesAllocated <= 10_000, `${b.bytesAllocated} bytes allocated per transfer (budget 10,000)`);
  keepsLittle(t, await promotedBytes(t, 'transfer'));
});

test('request() + mergeMap: two subscriptions per transfer', async (t) => {
  const b = await measure(t, 'request');
  sharedPath(t, b);
  t.true(b.subscriptions <= 2.01, `${b.subscriptions} subscriptions per transfer`);
  t.true(b.bytesAllocated <= 10_500, `${b.bytesAllocated} bytes allocated per transfer (budget 10,500)`);
  keepsLittle(t, await promotedBytes(t, 'request'));
});

test('a new connection per transfer keeps no more of it in the old generation than a reused one', async (t) => {
  // Every socket's watch and poll handle come and go with its connection: tables by fd, not Maps.
  keepsLittle(t, await promotedBytes(t, 'fresh'));
});
