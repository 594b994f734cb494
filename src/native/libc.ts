import koffi from 'koffi';
import type { Pointer } from './libcurl.js';

/** The few C library functions rxcurl calls itself. */
export interface Libc {
  /** Copies bytes libcurl lends into memory JavaScript owns. */
  memcpy(dest: Uint8Array, src: Pointer, n: number): unknown;
  /** Opens the sockets libcurl asks for (CURLOPT_OPENSOCKETFUNCTION). */
  socket(domain: number, type: number, protocol: number): number;
  /** Closes them (CURLOPT_CLOSESOCKETFUNCTION). */
  close(fd: number): number;
}

let loaded: Libc | undefined;

/** The C library of the running process, loaded on first use and once only. */
export function libc(): Libc {
  if (!loaded) {
    const lib = koffi.load(process.platform === 'win32' ? 'msvcrt.dll' : null);
    loaded = {
      memcpy: lib.func('void *memcpy(void *dest, void *src, size_t n)'),
      // Sockets are fds only off Windows; callbacks.ts uses these two there alone.
      socket:
        process.platform === 'win32'
          ? unavailable
          : lib.func('int socket(int domain, int type, int protocol)'),
      close: process.platform === 'win32' ? unavailable : lib.func('int close(int fd)'),
    };
  }
  return loaded;
}

function unavailable(): never {
  throw new Error('rxcurl opens and closes sockets itself only where they are file descriptors');
}
