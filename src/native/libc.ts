import koffi from 'koffi';
import type { Handle, Pointer } from './libcurl.js';

/** The few C library functions rxcurl calls itself. */
export interface Libc {
  /** Copies bytes libcurl lends into memory JavaScript owns. */
  memcpy(dest: Uint8Array, src: Pointer, n: number): unknown;
  /** Opens the sockets libcurl asks for (CURLOPT_OPENSOCKETFUNCTION). */
  socket(domain: number, type: number, protocol: number): number;
  /** Closes them (CURLOPT_CLOSESOCKETFUNCTION). */
  close(fd: number): number;
  /** A FILE for an open fd, for libcurl's default write function (fwrite); 0 on failure. */
  fdopen(fd: number, mode: string): Handle;
  /** Flushes and closes a FILE and its fd; 0 on success. */
  fclose(file: Handle): number;
}

let loaded: Libc | undefined;

/** The C library of the running process, loaded on first use and once only. */
export function libc(): Libc {
  if (!loaded) {
    const windows = process.platform === 'win32';
    const lib = koffi.load(windows ? 'msvcrt.dll' : null);
    loaded = {
      memcpy: lib.func('void *memcpy(void *dest, void *src, size_t n)'),
      // Sockets are fds only off Windows; callbacks.ts uses these two there alone.
      socket: windows ? unavailable : lib.func('int socket(int domain, int type, int protocol)'),
      close: windows ? unavailable : lib.func('int close(int fd)'),
      fdopen: lib.func(
        windows ? 'intptr_t _fdopen(int fd, const char *mode)' : 'intptr_t fdopen(int fd, const char *mode)',
      ),
      fclose: lib.func('int fclose(intptr_t file)'),
    };
  }
  return loaded;
}

function unavailable(): never {
  throw new Error('rxcurl opens and closes sockets itself only where they are file descriptors');
}
