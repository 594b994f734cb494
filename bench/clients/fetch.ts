/**
 * Node.js's own `fetch` (the undici bundled with Node), HTTP/1.1 only: its default agent opens as
 * many connections as there are requests in flight. Bodies are read chunk by chunk, or piped to a
 * file stream for the download workload.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { runNodeClient, type Tally, tallyInParallel } from '../job.js';

await runNodeClient((job) => {
  const { url, outFile } = job;

  const transfer = async (tally: Tally): Promise<number> => {
    const response = await fetch(url);
    if (response.body !== null) {
      if (outFile === undefined) {
        for await (const chunk of response.body) tally.bytes += chunk.length;
      } else {
        const file = createWriteStream(outFile);
        await pipeline(Readable.fromWeb(response.body), file);
        tally.bytes += file.bytesWritten;
      }
    }
    return response.status;
  };

  return {
    run: (count) => tallyInParallel(count, job.concurrency, transfer),
    close: async () => {},
  };
});
