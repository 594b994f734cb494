/**
 * rxcurl through its public API (the built package, `dist/`): `transfer()` with its `data` events
 * counted, concurrency by `mergeMap`; `download()` for the download workload. One Curl per process.
 */
import { Curl, type DownloadEvent, type TransferEvent } from 'rxcurl';
import { catchError, EMPTY, mergeMap, type Observable, range } from 'rxjs';
import { httpVersionOf, runNodeClient, rxcurlRequest, type Tally } from '../job.js';

await runNodeClient((job) => {
  const curl = new Curl();
  const request = rxcurlRequest(job);
  const { outFile } = job;
  const httpVersion = httpVersionOf(job).name;

  const count = (tally: Tally, event: TransferEvent | DownloadEvent): void => {
    switch (event.type) {
      case 'data':
        tally.bytes += event.chunk.length;
        break;
      case 'done':
        tally.requests++;
        if ('bytes' in event) tally.bytes += event.bytes;
        if (event.result.status !== 200 || event.result.httpVersion !== httpVersion) tally.failures++;
        break;
    }
  };

  return {
    run: (n) =>
      new Promise<Tally>((resolve, reject) => {
        const tally: Tally = { requests: 0, bytes: 0, failures: 0 };
        const failed = (): Observable<never> => {
          tally.requests++;
          tally.failures++;
          return EMPTY;
        };
        const one = (): Observable<TransferEvent | DownloadEvent> => {
          const events: Observable<TransferEvent | DownloadEvent> =
            outFile === undefined ? curl.transfer(request) : curl.download(request, outFile);
          return events.pipe(catchError(failed));
        };
        range(n)
          .pipe(mergeMap(one, job.concurrency))
          .subscribe({ next: (event) => count(tally, event), error: reject, complete: () => resolve(tally) });
      }),
    close: () => curl.close(),
  };
});
