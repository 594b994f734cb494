import type { LentChunk } from '../core/LentChunk.js';

/**
 * A response body buffered as it arrives: lent chunks are copied in once, into memory sized from
 * the Content-Length when there is one (grown by doubling when there is none, or it was wrong).
 * The memory is taken when the first byte of body arrives, so a HEAD, a 204 or a 304 takes none;
 * a large allocation is only address space until bytes are written to it, so a Content-Length that
 * lies costs little.
 */
export class BodyBuffer {
  private buffer: Buffer | undefined = undefined;
  private length = 0;
  private expected = 0;

  /** The size to expect, from the response head (request() and requestAll() cap it with maxBodyBytes). */
  expect(bytes: number): void {
    if (Number.isSafeInteger(bytes) && bytes > 0) this.expected = bytes;
  }

  /** Copies lent bytes straight from where the driver holds them. */
  append(lent: LentChunk): void {
    lent.copyInto(this.reserve(lent.byteLength));
  }

  appendBytes(bytes: Uint8Array): void {
    this.reserve(bytes.byteLength).set(bytes);
  }

  /** Room for `bytes` more, counted in: where they go. */
  private reserve(bytes: number): Uint8Array {
    const at = this.length;
    const needed = at + bytes;
    let { buffer } = this;
    if (buffer === undefined || needed > buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.expected, (buffer?.length ?? 0) * 2));
      if (buffer) buffer.copy(grown, 0, 0, at);
      this.buffer = buffer = grown;
    }
    this.length = needed;
    return at === 0 ? buffer : buffer.subarray(at);
  }

  /** The body: exactly its bytes (a copy when most of the memory would go unused). */
  take(): Buffer {
    const { buffer, length } = this;
    if (buffer === undefined || length === 0) return Buffer.alloc(0);
    if (length === buffer.length) return buffer;
    return length < buffer.length / 2 ? Buffer.from(buffer.subarray(0, length)) : buffer.subarray(0, length);
  }
}
