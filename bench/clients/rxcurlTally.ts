/** What rxcurl.ts and rxcurl-queue.ts count of their events: requests, bytes, and failures. */
import type { DownloadEvent, TransferEvent } from 'rxcurl';
import { EMPTY, type Observable } from 'rxjs';
import type { Tally } from '../job.js';

export function rxcurlTally(httpVersion: string) {
  const tally: Tally = { requests: 0, bytes: 0, failures: 0 };
  return {
    tally,
    /** Counts one event; a response that is not a 200 over the expected version is a failure. */
    count(event: TransferEvent | DownloadEvent): void {
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
    },
    /** A transfer that errored: counted, and replaced by nothing. */
    failed(): Observable<never> {
      tally.requests++;
      tally.failures++;
      return EMPTY;
    },
  };
}
