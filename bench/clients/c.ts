/** The ceiling: bench/c/multi.c, libcurl's multi_socket API on epoll, which measures itself. */
import type { Measurement } from '../job.js';
import { type Client, lastJsonLine } from './client.js';

export const c: Client = {
  name: 'c',
  skip: () => undefined,
  argv: (job, tools) => [
    tools.multi,
    job.url,
    String(job.total),
    String(job.concurrency),
    job.h2 ? 'h2' : 'h1',
    ...(job.outFile === undefined ? [] : [job.outFile]),
  ],
  parse: (stdout) => lastJsonLine<Measurement>(stdout),
};
