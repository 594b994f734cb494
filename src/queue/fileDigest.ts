import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * The sha256 and size of a file, read once as a stream. The worker reads the finished file rather
 * than hashing the bytes as they arrive: libcurl writes the file itself (no JavaScript per chunk),
 * and a resumed download's first part was written by another process, so only the file holds
 * every byte.
 */
export async function fileDigest(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
