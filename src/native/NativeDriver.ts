import { closeSync, openSync } from 'node:fs';
import koffi from 'koffi';
import type { Observable } from 'rxjs';
import type { CurlOptions } from '../api/CurlOptions.js';
import type { DriverTransfer, MultiCallbacks, MultiCode, MultiDriver } from '../core/MultiDriver.js';
import type { NormalizedRequest } from '../core/NormalizedRequest.js';
import { CURL_POLL_NONE, CURL_POLL_REMOVE } from '../core/socketEvents.js';
import type { TransferResult } from '../core/types.js';
import { CurlError, CurlMultiError } from '../errors/CurlError.js';
import { CURLE } from '../errors/curlCodes.js';
import { CURLM } from '../errors/multiCodes.js';
import { CacheFiles } from './CacheFiles.js';
import { type MultiTarget, multiTargets, registeredCallbacks } from './callbacks.js';
import {
  CURL_LOCK_DATA_COOKIE,
  CURL_LOCK_DATA_DNS,
  CURL_LOCK_DATA_SSL_SESSION,
  CURLMOPT,
  CURLMSG_DONE,
  CURLOPT,
  CURLPAUSE_CONT,
  CURLPAUSE_RECV,
  CURLPAUSE_SEND,
  CURLPIPE_MULTIPLEX,
  CURLPIPE_NOTHING,
  CURLSHOPT_SHARE,
} from './constants.js';
import { EasySlot } from './EasySlot.js';
import { compileOptions, EasyOptions, RECEIVE_BUFFER_BYTES, sameList, setOption } from './easyOptions.js';
import { libc } from './libc.js';
import { type Handle, type Libcurl, loadLibcurl } from './libcurl.js';
import { MimeForm } from './MimeForm.js';
import { readResult } from './readResponse.js';
import { SocketPolls } from './SocketPolls.js';
import { libcurlVersion, stallsFtpDoMore, userAgent } from './version.js';

const POINTER_SIZE = koffi.sizeof('void *');
const FTP_URL = /^ftps?:/i;
/** Idle easy handles kept for reuse; more than this are cleaned up as they come back. */
const MAX_POOLED = 256;

/** The options of a Curl that shape its multi handle and easy handles. */
export type NativeDriverOptions = Pick<
  CurlOptions,
  | 'libcurl'
  | 'maxTotalConnections'
  | 'maxHostConnections'
  | 'maxConcurrentStreams'
  | 'multiplex'
  | 'cookies'
  | 'hsts'
  | 'altSvc'
>;

/** The MultiDriver of real transfers: libcurl's multi_socket API through koffi. */
export class NativeDriver implements MultiDriver, MultiTarget {
  readonly lib: Libcurl;
  runningHandles = 0;
  private multi: Handle = 0;
  private share: Handle = 0;
  /** This driver's entry in multiTargets while a multi handle is open; 0 when closed. */
  private id = 0;
  private callbacks: MultiCallbacks | undefined;
  /**
   * Every slot this driver made, by easy handle, from creation to destroy(): what info_read names.
   * A slot is put in and taken out once, not per transfer (see DenseList for what churn would cost).
   */
  private readonly byEasy = new Map<Handle, EasySlot>();
  /** Slots whose easy handle is in the multi handle. */
  private attached = 0;
  private readonly pool: EasySlot[] = [];
  private readonly polls = new SocketPolls();
  /**
   * The FTP transfers of a libcurl that can leave one waiting on nothing (stallsFtpDoMore), each with
   * the fds libcurl asked to watch for it; and those left with none since the last action.
   */
  private readonly ftpSockets: Map<Handle, Set<number>> | undefined;
  private readonly ftpUnwatched = new Set<Handle>();
  private readonly userAgent: string;
  private readonly cacheFiles: CacheFiles;
  // Out-parameters, allocated once.
  private readonly running = new Int32Array(1);
  private readonly messagesLeft = new Int32Array(1);

  constructor(private readonly options: NativeDriverOptions = {}) {
    this.lib = loadLibcurl(options.libcurl);
    this.userAgent = userAgent(this.lib);
    this.cacheFiles = new CacheFiles(this.lib, options.hsts, options.altSvc);
    if (stallsFtpDoMore(libcurlVersion(this.lib).libcurl)) this.ftpSockets = new Map();
  }

  open(callbacks: MultiCallbacks): void {
    const { lib, options } = this;
    const fns = registeredCallbacks();
    this.callbacks = callbacks;
    // Registered per open multi handle and released in close(): a table entry kept after close()
    // would keep this driver, its engine and everything they hold alive for the life of the process.
    this.id = multiTargets.add(this);
    this.multi = lib.multi_init();
    if (this.multi === 0) throw new Error('curl_multi_init failed');
    // One share handle per Curl: DNS answers, TLS sessions and (when on) cookies are common to its transfers.
    this.share = lib.share_init();
    const shared = [CURL_LOCK_DATA_DNS, CURL_LOCK_DATA_SSL_SESSION];
    if (options.cookies) shared.push(CURL_LOCK_DATA_COOKIE);
    for (const data of shared) lib.share_setopt_long(this.share, CURLSHOPT_SHARE, 'int', data);
    this.cacheFiles.open(this.share);
    const set = lib.multi_setopt;
    set.pointer(this.multi, CURLMOPT.SOCKETFUNCTION, fns.socket);
    set.long(this.multi, CURLMOPT.SOCKETDATA, this.id);
    set.pointer(this.multi, CURLMOPT.TIMERFUNCTION, fns.timer);
    set.long(this.multi, CURLMOPT.TIMERDATA, this.id);
    set.long(
      this.multi,
      CURLMOPT.PIPELINING,
      options.multiplex === false ? CURLPIPE_NOTHING : CURLPIPE_MULTIPLEX,
    );
    if (options.maxTotalConnections !== undefined)
      set.long(this.multi, CURLMOPT.MAX_TOTAL_CONNECTIONS, options.maxTotalConnections);
    if (options.maxHostConnections !== undefined)
      set.long(this.multi, CURLMOPT.MAX_HOST_CONNECTIONS, options.maxHostConnections);
    if (options.maxConcurrentStreams !== undefined)
      set.long(this.multi, CURLMOPT.MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams);
  }

  // MultiTarget: where the process-wide callbacks land.
  socket(fd: number, what: number, easy: Handle): void {
    const fds = this.ftpSockets?.get(easy);
    if (fds) {
      if (what === CURL_POLL_REMOVE) this.ftpUnwatch(easy, fds, fd);
      else fds.add(fd);
    }
    // A connection back in libcurl's cache stays watched with no interest until it is closed
    // (socketClosed), so the next transfer on it finds its watcher and poll handle in place.
    const idle = what === CURL_POLL_REMOVE && this.polls.owns(fd);
    this.callbacks?.socket(fd, idle ? CURL_POLL_NONE : what);
  }
  timer(ms: number): void {
    this.callbacks?.timer(ms);
  }
  failed(err: unknown): void {
    this.callbacks?.failed(err);
  }
  socketOpened(fd: number): void {
    this.polls.socketOpened(fd);
  }

  socketClosed(fd: number): void {
    // A closed fd stays in no FTP transfer's set, where its number could come back for another socket.
    if (this.ftpSockets) for (const [easy, fds] of this.ftpSockets) this.ftpUnwatch(easy, fds, fd);
    this.polls.disown(fd);
    this.callbacks?.socket(fd, CURL_POLL_REMOVE);
    this.polls.socketClosed(fd);
  }

  add(transfer: DriverTransfer): void {
    const { request } = transfer;
    if (request.httpVersion === '3' && !libcurlVersion(this.lib).features.http3) {
      throw CurlError.invalidInput(
        'httpVersion',
        `'3' needs a libcurl built with HTTP/3; this one is libcurl ${libcurlVersion(this.lib).libcurl} without it`,
        request.url,
      );
    }
    const slot = this.pool.pop() ?? this.createSlot();
    try {
      if (request.form) slot.form = MimeForm.build(this.lib, slot, request.form, request.url);
      this.configure(slot, request);
      this.writeTo(slot, request);
    } catch (err) {
      this.release(slot); // half-configured: `applied` is unset, so its next use resets it
      throw err;
    }
    slot.begin(transfer);
    const rc = this.lib.multi_add_handle(this.multi, slot.easy);
    if (rc !== CURLM.OK) {
      this.release(slot);
      throw new CurlMultiError(
        rc,
        `curl_multi_add_handle failed: ${this.describeMultiCode(rc)}`,
        request.url,
      );
    }
    slot.attached = true;
    this.attached++;
    transfer.driverState = slot;
    if (this.ftpSockets && FTP_URL.test(request.url)) {
      this.ftpSockets.set(slot.easy, new Set());
      this.ftpUnwatched.add(slot.easy);
    }
  }

  resume(transfer: DriverTransfer): void {
    const slot = slotOf(transfer);
    if (!slot) return;
    // Resuming receive may deliver the held-back chunk at once, through the write callback.
    this.lib.easy_pause(slot.easy, slot.sendPaused ? CURLPAUSE_SEND : CURLPAUSE_CONT);
  }

  /** The upload source has bytes (or its end) again: let libcurl call the read callback. */
  private readonly unpauseSend = (slot: EasySlot, transfer: DriverTransfer): void => {
    this.callbacks?.defer(() => {
      if (slot.transfer !== transfer || !slot.sendPaused) return;
      slot.sendPaused = false;
      const recv = transfer.paused ? CURLPAUSE_RECV : CURLPAUSE_CONT;
      // A form part's pause reaches libcurl late when the mime had bytes before it in the same read:
      // the mime keeps the pause and only pauses the transfer at its next read. curl_easy_pause
      // clears a kept pause only if the transfer is paused when it is called, so pause it first,
      // or the transfer could be paused after this and never woken.
      if (slot.form) this.lib.easy_pause(slot.easy, CURLPAUSE_SEND | recv);
      this.lib.easy_pause(slot.easy, recv);
    });
  };

  remove(transfer: DriverTransfer): void {
    const slot = slotOf(transfer);
    if (!slot) return;
    this.detach(slot);
    // A cancelled transfer was still running; libcurl only says so at its next action.
    this.runningHandles = Math.min(this.runningHandles, this.attached);
  }

  socketAction(fd: number, events: number): MultiCode {
    const rc = this.lib.multi_socket_action(this.multi, fd, events, this.running);
    this.runningHandles = this.running[0];
    return rc === CURLM.OK && this.ftpStalled() ? this.socketAll() : rc;
  }

  private ftpUnwatch(easy: Handle, fds: Set<number>, fd: number): void {
    if (fds.delete(fd) && fds.size === 0) this.ftpUnwatched.add(easy);
  }

  /**
   * Whether an FTP transfer was left with no socket to watch by the last action. libcurl before
   * 8.4.0 moves a transfer whose DO phase ended within one call (on a reused control connection, the
   * EPSV reply already there) to DO_MORE without running it further; its data connection is not
   * started, so it asks for no socket, and only the transfer's timeout is set: nothing would run it
   * again but curl_multi_socket_all. Asked once each time a transfer is left unwatched, so one that
   * waits for a timer or a free connection costs one call, not a loop.
   */
  private ftpStalled(): boolean {
    if (this.ftpUnwatched.size === 0) return false;
    // None running: the transfers left unwatched have ended.
    let stalled = false;
    if (this.runningHandles > 0)
      for (const easy of this.ftpUnwatched) if (this.ftpSockets?.get(easy)?.size === 0) stalled = true;
    this.ftpUnwatched.clear();
    return stalled;
  }

  socketAll(): MultiCode {
    const rc = this.lib.multi_socket_all(this.multi, this.running);
    this.runningHandles = this.running[0];
    return rc;
  }

  drain(onDone: (transfer: DriverTransfer, result: TransferResult) => void): void {
    const { lib, multi, messagesLeft } = this;
    for (
      let msg = lib.multi_info_read(multi, messagesLeft);
      msg;
      msg = lib.multi_info_read(multi, messagesLeft)
    ) {
      // CURLMsg: msg (int) at 0, easy_handle at 8, data.result (int) at 16. Field by field:
      // decoding it as a struct would build an object with interned keys each time.
      if (koffi.decode(msg, 0, 'int') !== CURLMSG_DONE) continue;
      const easy = koffi.decode(msg, POINTER_SIZE, 'intptr_t') as Handle;
      const code = koffi.decode(msg, 2 * POINTER_SIZE, 'int') as number;
      const slot = this.byEasy.get(easy);
      const transfer = slot?.transfer;
      if (!slot || !transfer) continue;
      const result = readResult(lib, slot, transfer, code);
      if (!slot.closeFile()) {
        const message = `writing ${transfer.request.sink?.path} failed when the file was closed`;
        transfer.failed(new CurlError(CURLE.WRITE_ERROR, message, transfer.request.url));
      }
      if (transfer.active) {
        try {
          if (!transfer.responded && result.status > 0) slot.respond(transfer);
          // The final progress event carries the full totals.
          const { downloadedBytes: down, uploadedBytes: up } = result;
          if (code === 0 && transfer.request.progress) transfer.progress(down, down, up, up);
        } catch (err) {
          transfer.failed(err); // this transfer's failure, not the multi handle's
        }
      }
      this.detach(slot);
      onDone(transfer, result);
    }
  }

  readiness(fd: number, interest: Observable<number>): Observable<number> {
    return this.polls.watch(fd, interest);
  }

  describeMultiCode(code: MultiCode): string {
    return this.lib.multi_strerror(code);
  }

  handleCounts(): { attached: number; pooled: number } {
    return { attached: this.attached, pooled: this.pool.length };
  }

  close(): void {
    if (this.multi === 0) return;
    for (const slot of [...this.byEasy.values()]) if (slot.attached) this.detach(slot);
    for (const slot of this.pool.splice(0)) this.destroy(slot);
    this.lib.multi_cleanup(this.multi);
    this.cacheFiles.close();
    this.lib.share_cleanup(this.share); // after every easy handle that used it is gone
    this.polls.closeAll();
    multiTargets.release(this.id); // after multi_cleanup, which may still call the socket callbacks
    this.id = 0;
    this.multi = 0;
    this.share = 0;
    this.runningHandles = 0;
  }

  private createSlot(): EasySlot {
    const slot = new EasySlot(this.lib, this.unpauseSend);
    this.applyConstants(slot);
    // Once per handle, not after a reset: the handle keeps its alt-svc cache through resets.
    this.cacheFiles.applyTo(slot.easy);
    this.byEasy.set(slot.easy, slot);
    return slot;
  }

  /** Options every transfer of a slot shares; set again after curl_easy_reset. */
  private applyConstants(slot: EasySlot): void {
    const { lib } = this;
    const fns = registeredCallbacks();
    const { easy } = slot;
    lib.easy_setopt.pointer(easy, CURLOPT.WRITEFUNCTION, fns.write);
    lib.easy_setopt.long(easy, CURLOPT.WRITEDATA, slot.id);
    slot.writesToFile = false;
    lib.easy_setopt.pointer(easy, CURLOPT.READFUNCTION, fns.read);
    lib.easy_setopt.long(easy, CURLOPT.READDATA, slot.id);
    lib.easy_setopt.pointer(easy, CURLOPT.XFERINFOFUNCTION, fns.progress);
    lib.easy_setopt.long(easy, CURLOPT.XFERINFODATA, slot.id);
    lib.easy_setopt.pointer(easy, CURLOPT.SHARE, this.share);
    const { cookies } = this.options;
    if (cookies) {
      // "" turns the cookie engine on without reading a file.
      lib.easy_setopt.string(easy, CURLOPT.COOKIEFILE, typeof cookies === 'string' ? cookies : '');
      if (typeof cookies === 'string') lib.easy_setopt.string(easy, CURLOPT.COOKIEJAR, cookies);
    }
    lib.easy_setopt.pointer(easy, CURLOPT.ERRORBUFFER, slot.errorBuffer as unknown as number);
    lib.easy_setopt.long(easy, CURLOPT.NOSIGNAL, 1);
    lib.easy_setopt.long(easy, CURLOPT.BUFFERSIZE, RECEIVE_BUFFER_BYTES);
    if (fns.openSocket && fns.closeSocket) {
      lib.easy_setopt.pointer(easy, CURLOPT.OPENSOCKETFUNCTION, fns.openSocket);
      lib.easy_setopt.long(easy, CURLOPT.OPENSOCKETDATA, this.id);
      lib.easy_setopt.pointer(easy, CURLOPT.CLOSESOCKETFUNCTION, fns.closeSocket);
      lib.easy_setopt.long(easy, CURLOPT.CLOSESOCKETDATA, this.id);
    }
  }

  private configure(slot: EasySlot, request: NormalizedRequest): void {
    const { lib } = this;
    const headerKey = request.headers.length === 0 ? '' : request.headers.map(headerLine).join('\n');
    const oldList = slot.headerList;
    if (headerKey !== slot.headerKey) {
      let list = 0;
      for (const header of request.headers) list = lib.slist_append(list, headerLine(header));
      slot.headerList = list;
      slot.headerKey = headerKey;
    }
    this.applyOptions(
      slot,
      compileOptions(lib, request, slot.headerList, this.userAgent, slot.spare, slot.form?.mime),
    );
    // Freed only now: until the options above replaced it, the handle still pointed at it.
    if (oldList !== slot.headerList && oldList !== 0) lib.slist_free_all(oldList);
  }

  /** Points libcurl's writes at our write callback, or at the request's sink file (download()). */
  private writeTo(slot: EasySlot, request: NormalizedRequest): void {
    const { lib } = this;
    const { sink } = request;
    if (!sink) {
      if (!slot.writesToFile) return;
      lib.easy_setopt.pointer(slot.easy, CURLOPT.WRITEFUNCTION, registeredCallbacks().write);
      lib.easy_setopt.long(slot.easy, CURLOPT.WRITEDATA, slot.id);
      slot.writesToFile = false;
      return;
    }
    let fd: number;
    try {
      fd = openSync(sink.path, sink.append ? 'a' : 'w');
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new CurlError(CURLE.WRITE_ERROR, `cannot open the file to write: ${reason}`, request.url);
    }
    const file = libc().fdopen(fd, sink.append ? 'ab' : 'wb');
    if (file === 0) {
      closeSync(fd);
      throw new CurlError(CURLE.WRITE_ERROR, `cannot write to ${sink.path}`, request.url);
    }
    // Buffered as stdio buffers a file: libcurl hands fwrite 16 KiB at a time, at offsets the response
    // head shifts off page boundaries, and the kernel zeroes each page a write only partly covers;
    // stdio writes whole blocks (st_blksize) and keeps the rest, flushed at fclose. Unbuffered, that
    // zeroing was 8-10 % of the CPU of 3 GiB downloaded in a row (perf: __pi_memset), ~1-2 % of one.
    slot.file = file;
    // NULL is libcurl's default write function, fwrite(3), to the FILE in WRITEDATA.
    lib.easy_setopt.pointer(slot.easy, CURLOPT.WRITEFUNCTION, null);
    lib.easy_setopt.long(slot.easy, CURLOPT.WRITEDATA, file);
    slot.writesToFile = true;
  }

  private applyOptions(slot: EasySlot, next: EasyOptions): void {
    const prev = slot.applied;
    const sameShape = prev?.sameShape(next) === true;
    if (!sameShape && !slot.fresh) {
      this.lib.easy_reset(slot.easy);
      this.applyConstants(slot);
      slot.lists.release(this.lib, slot.easy);
    }
    // Until every option is set, the handle matches neither set of options.
    slot.applied = undefined;
    slot.fresh = false;
    const { ids, values } = next;
    for (let i = 0; i < next.length; i++) {
      const value = values[i];
      if (sameShape && (prev?.values[i] === value || sameList(prev?.values[i], value))) continue;
      // A list becomes a curl_slist that the slot keeps as long as the handle points at it.
      const rc = Array.isArray(value)
        ? slot.lists.set(this.lib, slot.easy, ids[i], value)
        : setOption(this.lib, slot.easy, ids[i], value);
      if (rc !== 0) {
        throw CurlError.invalidInput(
          next.fields[i],
          `was refused by libcurl: ${this.lib.easy_strerror(rc)}`,
          next.url,
        );
      }
    }
    slot.applied = next;
    slot.spare = prev ?? new EasyOptions();
  }

  private detach(slot: EasySlot): void {
    if (slot.transfer?.driverState === slot) slot.transfer.driverState = undefined;
    this.ftpSockets?.delete(slot.easy);
    this.ftpUnwatched.delete(slot.easy);
    if (slot.attached) {
      slot.attached = false;
      this.attached--;
      this.lib.multi_remove_handle(this.multi, slot.easy);
    }
    this.release(slot);
  }

  private release(slot: EasySlot): void {
    slot.end();
    if (this.pool.length < MAX_POOLED && this.multi !== 0) this.pool.push(slot);
    else this.destroy(slot);
  }

  private destroy(slot: EasySlot): void {
    this.byEasy.delete(slot.easy);
    slot.destroy();
  }
}

/** The slot running `transfer`, if it still has one. */
function slotOf(transfer: DriverTransfer): EasySlot | undefined {
  return transfer.driverState as EasySlot | undefined;
}

function headerLine([name, value]: readonly [string, string]): string {
  // libcurl's syntax for a header with an empty value is "Name;".
  return value === '' ? `${name};` : `${name}: ${value}`;
}
