/**
 * undici 7's `Pool.request`: as many connections as transfers in flight over HTTP/1.1; over HTTP/2
 * (`allowH2`, still experimental in undici 7) one connection carrying every stream. Bodies are read
 * chunk by chunk, or piped to a file stream for the download workload.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';
import { runNodeClient, type Tally, tallyInParallel } from '../job.js';

await runNodeClient((job) => {
  const url = new URL(job.url);
  const pool = new Pool(url.origin, {
    connections: job.h2 ? 1 : job.concurrency,
    allowH2: job.h2,
    maxConcurrentStreams: job.concurrency,
    connect: { rejectUnauthorized: false },
    keepAliveTimeout: 600_000,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const path = url.pathname;
  const { outFile } = job;

  const transfer = async (tally: Tally): Promise<number> => {
    const { statusCode, body } = await pool.request({ path, method: 'GET' });
    if (outFile === undefined) {
      for await (const chunk of body) tally.bytes += (chunk as Buffer).length;
    } else {
      const file = createWriteStream(outFile);
      await pipeline(body, file);
      tally.bytes += file.bytesWritten;
    }
    return statusCode;
  };

  return {
    run: (count) => tallyInParallel(count, job.concurrency, transfer),
    close: () => pool.close(),
  };
});
