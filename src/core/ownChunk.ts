import type { LentChunk } from './LentChunk.js';

/**
 * A copy of a lent chunk (see DriverTransfer.data) in memory JavaScript owns, for a `data` event.
 *
 * Copies are cut from a shared 256 KiB slab, the way Node's sockets cut reads from one allocation:
 * a fresh ArrayBuffer per chunk costs an allocation, first-touch page faults and GC pressure for
 * each. A chunk kept alive keeps its slab alive; a large chunk gets memory of its own.
 */
const SLAB_BYTES = 256 * 1024;
const OWN_ALLOCATION_BYTES = SLAB_BYTES / 4;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

export function ownChunk(lent: LentChunk): Buffer {
  const bytes = lent.byteLength;
  if (bytes > OWN_ALLOCATION_BYTES) {
    const own = Buffer.allocUnsafeSlow(bytes);
    lent.copyInto(own);
    return own;
  }
  if (used + bytes > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const chunk = slab.subarray(used, used + bytes);
  lent.copyInto(chunk);
  used += bytes;
  return chunk;
}
