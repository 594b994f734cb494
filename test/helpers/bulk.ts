// Large bodies made on the fly and checked without holding them, for the tests that move hundreds
// of MiB through the flow control of uploads and toFile. (Memory itself is measured by the bench,
// never asserted by tests: bench/workloads.ts.)
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

const BLOCK = randomBytes(64 * KiB);

/** Chunk `index` of a generated body: a random block stamped with the index, so no two are alike. */
export function generatedChunk(index: number, size: number): Buffer {
  const chunk = Buffer.allocUnsafe(size);
  BLOCK.copy(chunk, 0, 0, Math.min(size, BLOCK.length));
  if (size > BLOCK.length) chunk.fill(index & 255, BLOCK.length);
  if (size >= 8) chunk.writeDoubleLE(index, 0);
  return chunk;
}

export interface GeneratedBody {
  readable: Readable;
  /** sha256 of everything the Readable produced so far (all of it, once it ended). */
  digest(): string;
  produced(): number;
}

/**
 * A Readable of `size` bytes made lazily in `chunkSize` chunks, hashing what it hands out.
 * `beforeRead` runs each time the stream asks for more, before the next chunk is made.
 */
export function generatedBody(size: number, chunkSize = 64 * KiB, beforeRead?: () => void): GeneratedBody {
  const hash = createHash('sha256');
  let produced = 0;
  let index = 0;
  let digest: string | undefined;
  const readable = new Readable({
    highWaterMark: chunkSize,
    read() {
      beforeRead?.();
      if (produced >= size) {
        digest ??= hash.digest('hex');
        this.push(null);
        return;
      }
      const chunk = generatedChunk(index++, Math.min(chunkSize, size - produced));
      produced += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return {
    readable,
    digest: () => (digest ??= hash.digest('hex')),
    produced: () => produced,
  };
}

/** The sha256 of the body generatedBody(size, chunkSize) produces, computed without keeping it. */
export function generatedDigest(size: number, chunkSize = 64 * KiB): string {
  const hash = createHash('sha256');
  for (let offset = 0, index = 0; offset < size; offset += chunkSize, index++) {
    hash.update(generatedChunk(index, Math.min(chunkSize, size - offset)));
  }
  return hash.digest('hex');
}

/** Writes a generated body of `size` bytes to `out`, honouring its backpressure. Resolves at the end. */
export async function writeGenerated(
  out: Writable,
  size: number,
  chunkSize = 64 * KiB,
  isCancelled: () => boolean = () => false,
): Promise<void> {
  let index = 0;
  for (let offset = 0; offset < size; offset += chunkSize) {
    if (isCancelled() || out.destroyed) return;
    const ok = out.write(generatedChunk(index++, Math.min(chunkSize, size - offset)));
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = () => {
          out.off('drain', done);
          out.off('close', done);
          resolve();
        };
        out.on('drain', done);
        out.on('close', done);
      });
    }
  }
}

/** The sha256 of a file, read in 1 MiB pieces (never held whole). */
export function fileDigest(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: MiB })
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}
