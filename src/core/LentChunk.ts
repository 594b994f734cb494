/**
 * Body bytes a driver lends for the length of one call, where it holds them (libcurl's receive
 * buffer): the one copy a handler makes goes from there straight to where it keeps them.
 */
export interface LentChunk {
  readonly byteLength: number;
  /** Copies the bytes to the start of `target`, which has room for them. */
  copyInto(target: Uint8Array): void;
}

/** Bytes already in JavaScript's memory, lent the same way (the scripted driver's). */
export function lendBytes(bytes: Uint8Array): LentChunk {
  return { byteLength: bytes.byteLength, copyInto: (target) => target.set(bytes) };
}
