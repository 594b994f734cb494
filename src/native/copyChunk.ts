import { libc } from './libc.js';
import type { Pointer } from './libcurl.js';

/**
 * Copies bytes libcurl lends to the write callback into memory JavaScript owns, once.
 *
 * libcurl hands the write callback at most 16 KiB at a time. A fresh ArrayBuffer per chunk
 * (`koffi.decode`) costs an allocation, first-touch page faults and GC pressure for every one of
 * them, so chunks are cut from a shared 256 KiB slab with one memcpy each, the way Node's sockets
 * cut reads from one allocation. A chunk kept alive keeps its slab alive; a larger chunk gets
 * memory of its own.
 */
const SLAB_BYTES = 256 * 1024;
const OWN_ALLOCATION_BYTES = SLAB_BYTES / 4;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

export function copyChunk(src: Pointer, bytes: number): Buffer {
  let chunk: Buffer;
  if (bytes > OWN_ALLOCATION_BYTES) {
    chunk = Buffer.allocUnsafeSlow(bytes);
  } else {
    if (used + bytes > SLAB_BYTES) {
      slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      used = 0;
    }
    chunk = slab.subarray(used, used + bytes);
    used += bytes;
  }
  libc().memcpy(chunk, src, bytes);
  return chunk;
}
