/**
 * A polite same-host crawler with a depth limit, over a small site the demo serves.
 *
 * `expand` does the recursion: every link it emits is fetched and the page's new same-host links
 * are fed back in, until MAX_DEPTH. The politeness is a TransferQueue's: every fetch goes through
 * the one queue, which runs at most CONCURRENCY of them on a host at once and starts two at least
 * DELAY_MS apart. Links to other hosts are not followed; each page is fetched once.
 *
 *   npm run demo:crawler
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { catchError, EMPTY, expand, from, lastValueFrom, map, mergeMap, of } from 'rxjs';
import { Curl, TransferQueue } from '../src/index.js';

const MAX_DEPTH = 2;
const CONCURRENCY = 3;
const DELAY_MS = 25;

// --- the site: page → links. /deep/end is at depth 3, too deep to be fetched. --------------------
const site: Record<string, string[]> = {
  '/': ['/docs/', '/blog/', '/about', 'http://elsewhere.example/', '/missing'],
  '/docs/': ['/docs/install', '/docs/api', '/'],
  '/docs/install': ['/docs/api', '/deep/end'],
  '/docs/api': ['/docs/', 'https://github.com/'],
  '/blog/': ['/blog/2026/hello', '/about'],
  '/blog/2026/hello': ['/deep/end'],
  '/about': ['/'],
  '/deep/end': [],
};
const served: string[] = [];
// Requests in flight, counted by the server: up at a request, down once its response is sent, so
// never above what the crawler runs.
let active = 0;
let mostActive = 0;
const server = http.createServer((req, res) => {
  served.push(req.url!);
  mostActive = Math.max(mostActive, ++active);
  res.on('finish', () => active--);
  const links = site[req.url!];
  if (!links) return void res.writeHead(404).end('not found');
  // Some latency, so that the concurrency limit shows beside the delay between starts.
  setTimeout(() => {
    res.setHeader('content-type', 'text/html');
    res.end(
      `<html><body><h1>${req.url}</h1>${links.map((l) => `<a href="${l}">${l}</a>`).join(' ')}</body></html>`,
    );
  }, 100);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const start = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

// --- the crawler ---------------------------------------------------------------------------------
const curl = new Curl();
const origin = new URL(start).origin;
const seen = new Set<string>([start]);
let skipped = 0;
// Keyed by origin, the default: the limits are per host.
const queue = new TransferQueue<Link>({ perHost: { concurrency: CONCURRENCY, minDelayMs: DELAY_MS } });

function links(html: string, base: string): string[] {
  return [...html.matchAll(/href="([^"]+)"/g)].map((m) => new URL(m[1], base).href);
}

interface Link {
  url: string;
  depth: number;
}

const visit = ({ url, depth }: Link) =>
  curl.request(url).pipe(
    map((res) => {
      const found = res.status === 200 ? links(res.text(), url) : [];
      console.log(`depth ${depth}  ${res.status}  ${new URL(url).pathname}  (${found.length} links)`);
      return { depth, found };
    }),
    catchError((error: Error) => {
      console.log(`depth ${depth}  error  ${url}: ${error.message}`);
      return EMPTY;
    }),
  );

const began = Date.now();
await lastValueFrom(
  of<Link>({ url: start, depth: 0 }).pipe(
    expand((link) =>
      of(link).pipe(
        queue.schedule(visit),
        mergeMap(({ depth, found }) => {
          if (depth >= MAX_DEPTH) return EMPTY;
          const next = found.filter((url) => {
            if (new URL(url).origin !== origin) {
              skipped++;
              return false;
            }
            if (seen.has(url)) return false;
            seen.add(url);
            return true;
          });
          return from(next.map((url) => ({ url, depth: depth + 1 })));
        }),
      ),
    ),
  ),
  { defaultValue: undefined },
);

console.log(
  `crawled ${served.length} pages to depth ${MAX_DEPTH} in ${Date.now() - began} ms, at most ${mostActive} at once (limit ${CONCURRENCY} per host, starts ${DELAY_MS} ms apart), ${skipped} links to other hosts not followed`,
);
await curl.close();
server.close();
