/**
 * rxcurl's bulk path: `curl.requestAll(requests, { concurrency })` over an Iterable that yields the
 * request `n` times, one `Settled` per transfer (the body buffered: `response.body`), no Observable
 * per transfer. One Curl per process. requestAll is declared here rather than taken from rxcurl's
 * types, so the bench compiles against a build that does not have it yet; such a build fails the
 * run (the client exits with an error, and the run is marked invalid).
 */
import { Curl, type CurlRequest } from 'rxcurl';
import type { Observable } from 'rxjs';
import { httpVersionOf, runNodeClient, rxcurlRequest, type Tally } from '../job.js';

/** What the client reads of a Settled (API.md). */
interface Settled {
  response?: { status: number; httpVersion: string; body: Buffer };
  error?: unknown;
}

type RequestAll = (requests: Iterable<CurlRequest>, options: { concurrency: number }) => Observable<Settled>;

await runNodeClient((job) => {
  const curl = new Curl();
  const requestAll = (curl as unknown as { requestAll?: RequestAll }).requestAll;
  if (typeof requestAll !== 'function') {
    void curl.close();
    throw new Error('this build of rxcurl has no Curl.requestAll()');
  }
  const request = rxcurlRequest(job);
  const httpVersion = httpVersionOf(job).name;
  function* times(n: number): Iterable<CurlRequest> {
    for (let i = 0; i < n; i++) yield request;
  }

  return {
    run: (n) =>
      new Promise<Tally>((resolve, reject) => {
        const tally: Tally = { requests: 0, bytes: 0, failures: 0 };
        requestAll.call(curl, times(n), { concurrency: job.concurrency }).subscribe({
          next: ({ response }) => {
            tally.requests++;
            if (response === undefined) {
              tally.failures++;
              return;
            }
            tally.bytes += response.body.length;
            if (response.status !== 200 || response.httpVersion !== httpVersion) tally.failures++;
          },
          error: reject,
          complete: () => resolve(tally),
        });
      }),
    close: () => curl.close(),
  };
});
