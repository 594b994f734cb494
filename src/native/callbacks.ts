import koffi from 'koffi';
import type { DriverTransfer } from '../core/MultiDriver.js';
import { CURL_READFUNC_ABORT, CURL_WRITEFUNC_PAUSE } from './constants.js';
import { curlChunk } from './curlChunk.js';
import { libc } from './libc.js';
import {
  CloseSocketCallback,
  type Handle,
  OpenSocketCallback,
  type Pointer,
  ReadCallback,
  SocketCallback,
  TimerCallback,
  WriteCallback,
  XferInfoCallback,
} from './libcurl.js';

/** What the multi-level callbacks reach: one per multi handle, found by the integer libcurl passes back. */
export interface MultiTarget {
  socket(fd: number, what: number, easy: Handle): void;
  timer(ms: number): void;
  failed(err: unknown): void;
  /** libcurl opened the socket `fd` for a connection; its close will reach socketClosed. */
  socketOpened(fd: number): void;
  /** The socket `fd` is about to be closed: stop watching it (CURL_POLL_REMOVE) and forget it. */
  socketClosed(fd: number): void;
}

/** What a read callback reaches: an easy handle's request body, or a streamed part of its form. */
export interface ReadTarget {
  /** The transfer the easy handle runs; undefined while it is idle. */
  readonly transfer: DriverTransfer | undefined;
  /** Fills libcurl's upload buffer; returns bytes, 0 at the end, or CURL_READFUNC_PAUSE. */
  read(into: Uint8Array): number;
}

/**
 * What the easy-level callbacks reach: one per easy handle, found by the integer set as
 * CURLOPT_WRITEDATA, CURLOPT_READDATA and CURLOPT_XFERINFODATA.
 */
export interface EasyTarget extends ReadTarget {
  /** The transfer the easy handle runs; undefined while it is idle. */
  transfer: DriverTransfer | undefined;
  /** Progress from libcurl, about once a second or more; passed on at most every 100 ms. */
  progress(downloadTotal: number, downloaded: number, uploadTotal: number, uploaded: number): void;
  /** Reports the response head before the first byte of body. */
  respond(transfer: DriverTransfer): void;
  /** Counts body bytes; returns an error when the body is over the request's limit. */
  count(bytes: number): Error | undefined;
}

/** Integer ids for callback targets, reused after release so the tables stay dense. */
class TargetTable<T> {
  private readonly items: (T | undefined)[] = [undefined]; // id 0 is never used
  private readonly free: number[] = [];

  add(item: T): number {
    const id = this.free.pop() ?? this.items.length;
    this.items[id] = item;
    return id;
  }

  get(id: number): T | undefined {
    return this.items[id];
  }

  release(id: number): void {
    this.items[id] = undefined;
    this.free.push(id);
  }
}

export const multiTargets = new TargetTable<MultiTarget>();
export const easyTargets = new TargetTable<EasyTarget>();
/** Streamed parts of multipart forms, found by the integer passed to curl_mime_data_cb. */
export const partTargets = new TargetTable<ReadTarget>();

function onSocket(easy: Handle, fd: number, what: number, userp: number): number {
  // Never return -1 here: it would abort every transfer on the multi handle.
  const target = multiTargets.get(userp);
  try {
    target?.socket(fd, what, easy);
  } catch (err) {
    target?.failed(err);
  }
  return 0;
}

function onTimer(_multi: number, ms: number, userp: number): number {
  const target = multiTargets.get(userp);
  try {
    target?.timer(ms);
  } catch (err) {
    target?.failed(err);
  }
  return 0;
}

function onWrite(ptr: Pointer, _size: number, nmemb: number, userdata: number): number {
  const target = easyTargets.get(userdata);
  const transfer = target?.transfer;
  if (!transfer?.active) return 0; // cancelled: libcurl aborts the transfer, the engine removes it
  // Paused: libcurl keeps this chunk and offers it again once the transfer is resumed.
  if (transfer.paused) return CURL_WRITEFUNC_PAUSE;
  try {
    if (!transfer.responded) target!.respond(transfer);
    const limit = target!.count(nmemb);
    if (limit) {
      transfer.failed(limit);
      return 0;
    }
    transfer.data(curlChunk.lend(ptr, nmemb));
    return nmemb;
  } catch (err) {
    // Returned to libcurl as a write error; the engine surfaces `err` on this transfer instead.
    transfer.failed(err);
    return 0;
  } finally {
    curlChunk.revoke();
  }
}

/** A read callback for the targets of `table`: request bodies (CURLOPT_READFUNCTION) or form parts. */
const reader = (table: TargetTable<ReadTarget>) =>
  function onRead(ptr: Pointer, size: number, nitems: number, userdata: number): number {
    return readInto(table.get(userdata), ptr, size * nitems);
  };

function readInto(target: ReadTarget | undefined, ptr: Pointer, length: number): number {
  const transfer = target?.transfer;
  if (!transfer?.active) return CURL_READFUNC_ABORT;
  try {
    return target!.read(new Uint8Array(koffi.view(ptr, length)));
  } catch (err) {
    transfer.failed(err);
    return CURL_READFUNC_ABORT;
  }
}

function onProgress(
  userdata: number,
  dlTotal: number,
  dlNow: number,
  ulTotal: number,
  ulNow: number,
): number {
  const target = easyTargets.get(userdata);
  const transfer = target?.transfer;
  if (!transfer?.active) return 1; // aborts with CURLE_ABORTED_BY_CALLBACK; the transfer is gone anyway
  try {
    target!.progress(dlTotal, dlNow, ulTotal, ulNow);
  } catch (err) {
    transfer.failed(err);
    return 1;
  }
  return 0;
}

function onOpenSocket(clientp: number, _purpose: number, address: Pointer): number {
  // struct curl_sockaddr starts with `int family; int socktype; int protocol;`.
  const fd = libc().socket(
    koffi.decode(address, 0, 'int') as number,
    koffi.decode(address, 4, 'int') as number,
    koffi.decode(address, 8, 'int') as number,
  );
  if (fd >= 0) multiTargets.get(clientp)?.socketOpened(fd);
  return fd; // -1 is CURL_SOCKET_BAD: libcurl reports the failure
}

function onCloseSocket(clientp: number, fd: number): number {
  // Stop watching before the fd is closed, so a number reused at once for a new socket is never
  // confused with the old one, and no poll handle outlives its fd.
  const target = multiTargets.get(clientp);
  try {
    target?.socketClosed(fd);
  } catch (err) {
    target?.failed(err);
  }
  return libc().close(fd);
}

interface Registered {
  socket: Pointer;
  timer: Pointer;
  write: Pointer;
  read: Pointer;
  /** The read callback of streamed form parts (curl_mime_data_cb). */
  partRead: Pointer;
  progress: Pointer;
  /** With closeSocket, where the platform's sockets are fds; undefined elsewhere. */
  openSocket: Pointer | undefined;
  closeSocket: Pointer | undefined;
}

let registered: Registered | undefined;

/**
 * The process's callbacks: one of each kind, registered on first use and kept for the life of the
 * process, so `curl_multi_cleanup` may still call them and 8192 koffi slots never run out.
 */
export function registeredCallbacks(): Registered {
  if (!registered) {
    let openSocket: Pointer | undefined;
    let closeSocket: Pointer | undefined;
    if (process.platform !== 'win32') {
      openSocket = koffi.register(onOpenSocket, koffi.pointer(OpenSocketCallback)) as Pointer;
      closeSocket = koffi.register(onCloseSocket, koffi.pointer(CloseSocketCallback)) as Pointer;
    }
    registered = {
      socket: koffi.register(onSocket, koffi.pointer(SocketCallback)) as Pointer,
      timer: koffi.register(onTimer, koffi.pointer(TimerCallback)) as Pointer,
      write: koffi.register(onWrite, koffi.pointer(WriteCallback)) as Pointer,
      read: koffi.register(reader(easyTargets), koffi.pointer(ReadCallback)) as Pointer,
      partRead: koffi.register(reader(partTargets), koffi.pointer(ReadCallback)) as Pointer,
      progress: koffi.register(onProgress, koffi.pointer(XferInfoCallback)) as Pointer,
      openSocket,
      closeSocket,
    };
  }
  return registered;
}
