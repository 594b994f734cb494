/**
 * The clients of the bench. rxcurl.ts, rxcurl-queue.ts, rxcurl-all.ts, floor.ts, node-libcurl.ts, undici.ts and
 * fetch.ts are the Node.js programs (compiled to bench/.build); c.ts and curl.ts start native programs.
 */
import { join } from 'node:path';
import type { Measurement } from '../job.js';
import { ensureNodeLibcurl } from '../nodeLibcurl.js';
import { c } from './c.js';
import { type Client, lastJsonLine } from './client.js';
import { curl } from './curl.js';

const nodeClient = (name: string, options: Partial<Pick<Client, 'skip' | 'prepare'>> = {}): Client => ({
  name,
  skip: () => undefined,
  ...options,
  argv: (job, tools) => [
    process.execPath,
    '--expose-gc',
    join(tools.build, 'clients', `${name}.js`),
    JSON.stringify(job),
  ],
  parse: (stdout) => lastJsonLine<Measurement>(stdout),
});

export const CLIENTS: Client[] = [
  nodeClient('rxcurl'),
  nodeClient('rxcurl-queue', {
    skip: (w) => (w.download ? 'the queue is measured on transfer(), not download()' : undefined),
  }),
  nodeClient('rxcurl-all', {
    skip: (w) => (w.download ? 'requestAll() buffers every body: no download to a file' : undefined),
  }),
  nodeClient('floor'),
  nodeClient('node-libcurl', { prepare: ensureNodeLibcurl }),
  c,
  curl,
  nodeClient('undici'),
  nodeClient('fetch', { skip: (w) => (w.h2 ? "Node's fetch speaks HTTP/1.1 only" : undefined) }),
];
