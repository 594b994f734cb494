/**
 * rxcurl's `transfer()` scheduled by a `TransferQueue` instead of `mergeMap`: the same transfers
 * and counting as rxcurl.ts, each item keyed by its URL's origin, under per-host limits that
 * never bind (a concurrency as large as the global one and a rate no run reaches), so what is
 * measured is the queue's own cost.
 */
import { Curl, TransferQueue } from 'rxcurl';
import { catchError, map, range } from 'rxjs';
import { httpVersionOf, runNodeClient, rxcurlRequest, type Tally } from '../job.js';
import { rxcurlTally } from './rxcurlTally.js';

await runNodeClient((job) => {
  const curl = new Curl();
  const request = rxcurlRequest(job);
  const httpVersion = httpVersionOf(job).name;
  const queue = new TransferQueue<string>({
    concurrency: job.concurrency,
    perHost: { concurrency: job.concurrency, ratePerSecond: 1e9, burst: job.concurrency },
  });

  return {
    run: (n) =>
      new Promise<Tally>((resolve, reject) => {
        const { tally, count, failed } = rxcurlTally(httpVersion);
        range(n)
          .pipe(
            map(() => job.url),
            queue.schedule(() => curl.transfer(request).pipe(catchError(failed))),
          )
          .subscribe({ next: count, error: reject, complete: () => resolve(tally) });
      }),
    close: () => curl.close(),
  };
});
