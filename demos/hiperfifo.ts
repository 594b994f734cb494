/**
 * hiperfifo, the reactive way: the counterpart of libcurl's docs/examples/hiperfifo.c.
 *
 * Reads URLs, one per line, from a FIFO (or from standard input when no path is given) and starts
 * each as a transfer the moment its line arrives. Completions are printed from `curl.results$`, the
 * number of running transfers from `curl.running$`. When the input ends and every transfer has
 * finished, it closes the Curl and exits.
 *
 *   mkfifo /tmp/urls; npx tsx demos/hiperfifo.ts /tmp/urls
 *   # in another shell:
 *   echo https://curl.se/ > /tmp/urls
 *
 * Or, without a FIFO: `printf 'https://curl.se/\n' | npx tsx demos/hiperfifo.ts`.
 * `npm run demo` runs it against a local server (demos/run-hiperfifo.ts).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { catchError, distinctUntilChanged, EMPTY, filter, from, map, mergeMap, reduce } from 'rxjs';
import { Curl, CurlError } from '../src/index.js';

const fifo = process.argv[2];
const lines = createInterface({ input: fifo ? createReadStream(fifo) : process.stdin });
const curl = new Curl();

curl.results$.subscribe((r) => {
  const outcome = r.ok ? `${r.status}` : `${r.codeName}: ${r.message}`;
  console.log(
    `DONE ${r.url} => ${outcome}, ${r.downloadedBytes} bytes in ${r.timings.totalMs.toFixed(1)} ms`,
  );
});
curl.running$.pipe(distinctUntilChanged()).subscribe((n) => console.log(`running: ${n}`));

let total = 0;
from(lines) // one line at a time, as it arrives; completes when the input ends
  .pipe(
    map((line) => line.trim()),
    filter((url) => url !== ''),
    // mergeMap subscribes at once, without a limit: every URL starts as soon as it is read.
    mergeMap((url) => {
      console.log(`NEW ${url}`);
      return curl.transfer(url).pipe(
        reduce((bytes, event) => (event.type === 'data' ? bytes + event.chunk.length : bytes), 0),
        catchError((error: unknown) => {
          // A libcurl failure is already on results$; print the others (a bad URL never reaches libcurl).
          if (!(error instanceof CurlError && error.result)) console.log(`ERROR ${url}: ${String(error)}`);
          return EMPTY;
        }),
      );
    }),
  )
  .subscribe({
    next: (bytes) => {
      total += bytes;
    },
    complete: async () => {
      await curl.close();
      console.log(`input closed, nothing running: ${total} bytes received`);
    },
  });
