/**
 * rxcurl's bulk path: `curl.requestAll(requests, { concurrency })` over an Iterable that yields the
 * request `n` times, one `Settled` per transfer (the body buffered: `response.body`), no Observable
 * per transfer. One Curl per process.
 */
import { Curl, type CurlRequest } from 'rxcurl';
import { httpVersionOf, runNodeClient, rxcurlRequest, type Tally } from '../job.js';

await runNodeClient((job) => {
  const curl = new Curl();
  const request = rxcurlRequest(job);
  const httpVersion = httpVersionOf(job).name;
  function* times(n: number): Iterable<CurlRequest> {
    for (let i = 0; i < n; i++) yield request;
  }

  return {
    run: (n) =>
      new Promise<Tally>((resolve, reject) => {
        const tally: Tally = { requests: 0, bytes: 0, failures: 0 };
        curl.requestAll(times(n), { concurrency: job.concurrency }).subscribe({
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
