import { libc } from './libc.js';
import type { Pointer } from './libcurl.js';

/**
 * Lends the bytes libcurl passes to the write callback to JavaScript: copied with one memcpy into
 * one scratch buffer, reused by every call, so its memory is always warm and nothing is allocated
 * but the view. The view is valid only until the next call: a handler that keeps bytes copies them
 * where it keeps them (a body of its own, or an event's chunk), which is the one copy that costs.
 */
let scratch = Buffer.allocUnsafeSlow(16 * 1024); // CURL_MAX_WRITE_SIZE, libcurl's usual most

export function lendChunk(src: Pointer, bytes: number): Buffer {
  if (bytes > scratch.length) scratch = Buffer.allocUnsafeSlow(bytes);
  libc().memcpy(scratch, src, bytes);
  return scratch.subarray(0, bytes);
}
