import type { LentChunk } from '../core/LentChunk.js';
import { libc } from './libc.js';
import type { Pointer } from './libcurl.js';

/**
 * The bytes libcurl passes to the write callback, lent to JavaScript where they are: a handler
 * copies them with one memcpy into the memory it keeps them in (a body, an event's chunk), with no
 * copy into JavaScript's memory before. One object, reused by every call and emptied after it, so
 * that nothing is allocated per chunk and a handler that kept it copies nothing, never freed memory.
 */
class CurlChunk implements LentChunk {
  private src: Pointer = 0n;
  byteLength = 0;

  copyInto(target: Uint8Array): void {
    if (this.byteLength > 0) libc().memcpy(target, this.src, this.byteLength);
  }

  lend(src: Pointer, bytes: number): this {
    this.src = src;
    this.byteLength = bytes;
    return this;
  }

  revoke(): void {
    this.src = 0n;
    this.byteLength = 0;
  }
}

export const curlChunk = new CurlChunk();
