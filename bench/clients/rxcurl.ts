/**
 * rxcurl through its public API (the built package, `dist/`): `transfer()` with its `data` events
 * counted, concurrency by `mergeMap`; `download()` for the download workload. One Curl per process.
 */
import { Curl, type DownloadEvent, type TransferEvent } from 'rxcurl';
import { catchError, mergeMap, type Observable, range } from 'rxjs';
import { httpVersionOf, runNodeClient, rxcurlRequest, type Tally } from '../job.js';
import { rxcurlTally } from './rxcurlTally.js';

await runNodeClient((job) => {
  const curl = new Curl();
  const request = rxcurlRequest(job);
  const { outFile } = job;
  const httpVersion = httpVersionOf(job).name;

  return {
    run: (n) =>
      new Promise<Tally>((resolve, reject) => {
        const { tally, count, failed } = rxcurlTally(httpVersion);
        const one = (): Observable<TransferEvent | DownloadEvent> => {
          const events: Observable<TransferEvent | DownloadEvent> =
            outFile === undefined ? curl.transfer(request) : curl.download(request, outFile);
          return events.pipe(catchError(failed));
        };
        range(n)
          .pipe(mergeMap(one, job.concurrency))
          .subscribe({ next: count, error: reject, complete: () => resolve(tally) });
      }),
    close: () => curl.close(),
  };
});
