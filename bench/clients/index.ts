/**
 * The clients of the bench. rxcurl.ts, undici.ts and fetch.ts are the Node.js programs (compiled to bench/.build);
 * c.ts and curl.ts start native programs.
 */
import { join } from 'node:path';
import type { Measurement } from '../job.js';
import { c } from './c.js';
import { type Client, lastJsonLine } from './client.js';
import { curl } from './curl.js';

const nodeClient = (name: string, skip: Client['skip'] = () => undefined): Client => ({
  name,
  skip,
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
  c,
  curl,
  nodeClient('undici'),
  nodeClient('fetch', (w) => (w.h2 ? "Node's fetch speaks HTTP/1.1 only" : undefined)),
];
