import v8 from 'node:v8';
import vm from 'node:vm';
import test from 'ava';
import { lastValueFrom } from 'rxjs';
import { Curl } from '../../src/index.js';
import { delay, useServer } from '../helpers/servers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

test('a closed Curl does not stay reachable: its engine and driver can be collected', async (t) => {
  const server = await useServer(t, (_req, res) => {
    res.end('ok');
  });
  const engines: WeakRef<object>[] = [];
  for (let i = 0; i < 10; i++) {
    const curl = new Curl();
    t.is((await lastValueFrom(curl.request(`${server.url}/`))).text(), 'ok');
    // The engine is private; it is what the process-wide callback tables could keep alive.
    engines.push(new WeakRef((curl as unknown as { engine: object }).engine));
    await curl.close();
  }
  for (let i = 0; i < 5; i++) {
    gc();
    await delay(10);
  }
  const alive = engines.filter((ref) => ref.deref() !== undefined).length;
  // The last one may still be held by a pending promise job or a register of V8's; no more.
  t.true(alive <= 1, `${alive} of ${engines.length} closed engines are still reachable`);
});
