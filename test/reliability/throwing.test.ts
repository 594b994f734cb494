// User code that throws, at every point it can (issue #6). The scenario runs in a child process
// (fixtures/throwing.ts), so a crash, a hang or a stray uncaught exception shows up as its exit.
//
// What "never crashes" means here, and what is asserted:
// - An error thrown inside the pipeline (an operator such as map, tap or mergeMap, an upload source
//   Observable or Readable, a route script of the testing kit) becomes the error of that transfer's
//   Observable: the user's own error (the kit wraps it in a CurlError naming it). The transfer is
//   cancelled and its handle freed.
// - An error thrown by a final subscriber's next, error or complete handler (including results$)
//   cannot be delivered anywhere: RxJS reports it asynchronously through config.onUnhandledError,
//   whose default rethrows it from a setTimeout, i.e. outside rxcurl and outside any libcurl
//   callback. With onUnhandledError or an uncaughtException handler set, the process carries on.
// - In every case other transfers on the same Curl complete with exact bodies, the Curl works
//   afterwards, nothing stays in flight, and the process exits by itself (exit code 0, no hang).
// - With no handler at all, Node ends the process on the first such report, as it does for any
//   RxJS program: exit code 1 with the user's error, never a signal (no native crash).
// Concurrency-level checks of the same kind: test/transfers/isolation.test.ts.
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { runChild } from '../helpers/reliability.js';

const fixture = fileURLToPath(new URL('./fixtures/throwing.ts', import.meta.url));

interface Report {
  mode: string;
  healthy: boolean[];
  afterOk: boolean;
  kitText: string;
  transferErrors: Record<string, string>;
  handlerThrows: number;
  reported: string[];
  stats: { transfers: number; easyHandles: number; sockets: number };
}

const expectedErrors: Record<string, RegExp> = {
  map: /^Error: user code threw in map$/,
  'tap on response': /^Error: user code threw in tap$/,
  'mergeMap project': /^Error: user code threw in mergeMap$/,
  'upload Observable subscribe': /^Error: user code threw in upload Observable subscribe$/,
  'upload Observable after a chunk': /^Error: user code threw in upload Observable map$/,
  'upload Observable error': /^Error: user code threw in upload Observable error$/,
  'upload Readable read()': /^Error: user code threw in upload Readable read$/,
  'upload Readable destroy': /^Error: user code threw in upload Readable destroy$/,
  'kit route function': /^CurlError: .*user code threw in route script$/,
  'kit route Observable': /^CurlError: .*user code threw in route Observable$/,
};

for (const mode of ['onUnhandledError', 'uncaughtException']) {
  test(`user code that throws everywhere (handled by ${mode}): other transfers exact, clean exit`, async (t) => {
    const child = await runChild(fixture, [mode], 30_000);
    t.false(child.timedOut, 'the process ended by itself');
    t.is(child.signal, null);
    t.is(child.code, 0, child.stderr);
    const report = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Report;
    t.deepEqual(report.healthy, [true, true, true, true, true, true, true, true], 'healthy bodies exact');
    t.true(report.afterOk, 'the Curl works afterwards');
    t.is(report.kitText, 'fine', 'the testing kit still answers');
    for (const [name, pattern] of Object.entries(expectedErrors)) {
      t.regex(report.transferErrors[name] ?? 'missing', pattern, name);
    }
    t.true(report.handlerThrows >= 10, `${report.handlerThrows} handler throws`);
    t.is(report.reported.length, report.handlerThrows, 'every handler throw was reported, once');
    t.true(
      report.reported.every((r) => r.startsWith('Error: user code threw in ')),
      'nothing but user errors were reported',
    );
    t.like(report.stats, { transfers: 0, easyHandles: 0 });
    t.log(
      `${Object.keys(report.transferErrors).length} pipeline throws became transfer errors; ` +
        `${report.handlerThrows} handler throws reported; exit ${child.code} after ${child.ms} ms`,
    );
  });
}

test('with no handler at all, the first handler throw ends the process like in any RxJS program: exit 1, the user error', async (t) => {
  const child = await runChild(fixture, ['none'], 30_000);
  t.false(child.timedOut);
  t.is(child.signal, null, 'not a native crash');
  t.is(child.code, 1);
  t.regex(child.stderr, /Error: user code threw in /);
  t.notRegex(child.stderr, /Segmentation|Aborted|FATAL|koffi/i);
});
