/**
 * Node.js's own `fetch` (the undici bundled with Node), HTTP/1.1 only: its default agent opens as
 * many connections as there are requests in flight. Bodies are read chunk by chunk, or piped to a
 * file stream for the download workload.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inParallel, runNodeClient, type Tally } from '../job.js';

await runNodeClient((job) => {
  const { url, outFile } = job;

  const transfer = async (tally: Tally): Promise<void> => {
    try {
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
      if (response.status !== 200) tally.failures++;
    } catch {
      tally.failures++;
    }
    tally.requests++;
  };

  return {
    async run(count) {
      const tally: Tally = { requests: 0, bytes: 0, failures: 0 };
      await inParallel(count, job.concurrency, () => transfer(tally));
      return tally;
    },
    close: async () => {},
  };
});
