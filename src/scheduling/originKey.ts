import { CurlError } from '../errors/CurlError.js';

const WITH_SCHEME = /^([a-z][a-z0-9+.-]*):\/\/(?:[^/?#@]*@)?([^/?#]*)/i;
const DEFAULT_PORTS: Record<string, string> = { http: ':80', https: ':443', ftp: ':21', sftp: ':22' };

/**
 * The default key of a queued item: the origin, `scheme://host[:port]` lower-cased, without user
 * info or a default port, of the item (a URL string), of `item.url` or of `item.request.url`.
 * A URL without a scheme (libcurl guesses one) is keyed by what comes before its first `/`.
 */
export function originKey(item: unknown): string {
  const url = urlOf(item);
  if (url === undefined) {
    throw new CurlError(
      'INVALID_INPUT',
      'TransferQueue: no URL in the item (a string, item.url or item.request.url); give the queue a key function',
      '',
    );
  }
  const match = WITH_SCHEME.exec(url);
  if (!match) return url.replace(/[/?#].*$/s, '').toLowerCase();
  const scheme = match[1].toLowerCase();
  let host = match[2].toLowerCase();
  const port = DEFAULT_PORTS[scheme];
  if (port !== undefined && host.endsWith(port)) host = host.slice(0, -port.length);
  return `${scheme}://${host}`;
}

function urlOf(item: unknown): string | undefined {
  if (typeof item === 'string') return item;
  if (typeof item !== 'object' || item === null) return undefined;
  const { url, request } = item as { url?: unknown; request?: { url?: unknown } };
  if (typeof url === 'string') return url;
  if (typeof request === 'object' && request !== null && typeof request.url === 'string') return request.url;
  return undefined;
}
