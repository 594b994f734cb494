// Users start and stop transfers from inside the handlers of other transfers' events, which run
// inside libcurl callbacks: the engine must defer that work, not call back into libcurl.
import test from 'ava';
import {
  concatMap,
  filter,
  firstValueFrom,
  lastValueFrom,
  map,
  mergeMap,
  range,
  switchMap,
  take,
  timer,
  toArray,
} from 'rxjs';
import { body } from '../../src/index.js';
import { randomPayload, sha256, useCurl, useServer, waitFor } from '../helpers/servers.js';

const payload = randomPayload(512 * 1024);

function serve(t: Parameters<typeof useCurl>[0]) {
  return useServer(t, (req, res) => {
    if (req.url?.startsWith('/hang')) return;
    res.setHeader('x-next', String(Number(/\d+/.exec(req.url ?? '')?.[0] ?? 0) + 1));
    res.end(req.url === '/big' ? payload : `page ${req.url}`);
  });
}

test("a transfer started from inside another transfer's data handler runs to the end", async (t) => {
  const server = await serve(t);
  const curl = useCurl(t);
  let inner: Promise<string> | undefined;
  const outer = await lastValueFrom(
    curl.transfer(`${server.url}/big`).pipe(
      map((event) => {
        if (event.type === 'data' && !inner)
          inner = lastValueFrom(curl.request(`${server.url}/inner`)).then((r) => r.text());
        return event;
      }),
      body(),
    ),
  );
  t.is(sha256(outer), sha256(payload));
  t.is(await inner, 'page /inner');
});

test('chained requests: each response head starts the next request (mergeMap on the response event)', async (t) => {
  const server = await serve(t);
  const curl = useCurl(t);
  const texts = await lastValueFrom(
    range(0, 10).pipe(
      concatMap((i) =>
        curl.transfer(`${server.url}/chain/${i}`).pipe(
          filter((e) => e.type === 'response'),
          mergeMap((e) =>
            curl.request(`${server.url}/follow/${e.type === 'response' ? e.headers['x-next'] : ''}`),
          ),
          map((r) => r.text()),
        ),
      ),
      toArray(),
    ),
  );
  t.deepEqual(
    texts,
    Array.from({ length: 10 }, (_, i) => `page /follow/${i + 1}`),
  );
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test('switchMap cancels the previous request when a new one starts', async (t) => {
  const server = await serve(t);
  const curl = useCurl(t);
  const result = await lastValueFrom(
    timer(0, 30).pipe(
      take(4),
      switchMap((i) => curl.request(i < 3 ? `${server.url}/hang/${i}` : `${server.url}/last`)),
      map((r) => r.text()),
    ),
  );
  t.is(result, 'page /last');
  await waitFor(() => server.sockets.size <= 1, 'the cancelled connections to close');
  t.like(curl.stats(), { transfers: 0, easyHandles: 0 });
});

test("unsubscribing one transfer from inside another's handler", async (t) => {
  const server = await serve(t);
  const curl = useCurl(t);
  const hanging = curl.transfer(`${server.url}/hang/x`).subscribe();
  await waitFor(() => server.requests.length === 1, 'the hanging request to arrive');
  const first = await firstValueFrom(
    curl.transfer(`${server.url}/big`).pipe(
      filter((e) => e.type === 'data'),
      map((e) => {
        hanging.unsubscribe();
        return e;
      }),
    ),
  );
  t.is(first.type, 'data');
  await waitFor(() => curl.stats().transfers === 0, 'every transfer to end');
  t.is(curl.stats().easyHandles, 0);
});

test('100 transfers subscribed synchronously from one results$ handler', async (t) => {
  const server = await serve(t);
  const curl = useCurl(t);
  const done: Promise<string[]>[] = [];
  const subscription = curl.results$.pipe(take(1)).subscribe(() => {
    done.push(
      lastValueFrom(
        range(100).pipe(
          mergeMap((i) => curl.request(`${server.url}/fan/${i}`).pipe(map((r) => r.text()))),
          toArray(),
        ),
      ),
    );
  });
  await lastValueFrom(curl.request(`${server.url}/trigger`));
  subscription.unsubscribe();
  t.is(done.length, 1);
  const texts = await done[0];
  t.is(texts.length, 100);
  t.is(new Set(texts).size, 100);
});
