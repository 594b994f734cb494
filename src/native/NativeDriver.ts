import koffi from 'koffi';
import type { Observable } from 'rxjs';
import type { MultiCallbacks, MultiDriver } from '../core/MultiDriver.js';
import { CURL_POLL_NONE, CURL_POLL_REMOVE } from '../core/socketEvents.js';
import type { ResponseHead, TransferJob } from '../core/TransferJob.js';
import type { Headers, TransferResult } from '../core/types.js';
import { UploadSource } from '../core/UploadSource.js';
import { CurlError, curlCodeName } from '../errors/CurlError.js';
import {
  type EasyTarget,
  easyTargets,
  type MultiTarget,
  multiTargets,
  registeredCallbacks,
} from './callbacks.js';
import {
  CURL_ERROR_SIZE,
  CURL_LOCK_DATA_COOKIE,
  CURL_LOCK_DATA_DNS,
  CURL_LOCK_DATA_SSL_SESSION,
  CURL_READFUNC_PAUSE,
  CURLH_HEADER,
  CURLINFO,
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
import { compileOptions, type EasyOptions, setOption } from './easyOptions.js';
import { type Handle, type Libcurl, loadLibcurl } from './libcurl.js';
import { SocketPolls } from './SocketPolls.js';
import { libcurlVersion, userAgent } from './version.js';

const POINTER_SIZE = koffi.sizeof('void *');
const HTTP_VERSION_NAMES = ['', '1.0', '1.1', '2', '2', '2'];
const CURL_HTTP_VERSION_3 = 30;
const CURLE_FILESIZE_EXCEEDED = 63;
const PROGRESS_INTERVAL_MS = 100;
/** Idle easy handles kept for reuse; more than this are cleaned up as they come back. */
const MAX_POOLED = 256;
/** libcurl's receive buffer; its 16 KiB default costs ~40 % on large bodies. */
const RECEIVE_BUFFER_BYTES = 102400;

export interface NativeDriverOptions {
  libcurl?: string;
  maxTotalConnections?: number;
  maxHostConnections?: number;
  maxConcurrentStreams?: number;
  multiplex?: boolean;
  cookies?: boolean | string;
}

/** One easy handle with what stays with it between transfers. */
class EasySlot implements EasyTarget {
  readonly id: number;
  readonly easy: Handle;
  readonly errorBuffer = Buffer.alloc(CURL_ERROR_SIZE);
  job: TransferJob | undefined = undefined;
  /** The options last applied, to set only what changed when the next request has the same shape. */
  applied: EasyOptions | undefined = undefined;
  /** Nothing but the constant options set yet, so no curl_easy_reset is needed. */
  fresh = true;
  headerKey = '';
  headerList: Handle = 0;
  received = 0;
  maxBodyBytes = Number.POSITIVE_INFINITY;
  upload: UploadSource | undefined = undefined;
  /** The response head given to the job, if any: its status, version and URL are final. */
  head: ResponseHead | undefined = undefined;
  /** Body bytes handed to libcurl; its own count includes chunked framing. */
  sent = 0;
  /** The read callback returned CURL_READFUNC_PAUSE and waits for the upload source. */
  sendPaused = false;
  private lastProgress = 0;

  constructor(
    private readonly driver: NativeDriver,
    lib: Libcurl,
  ) {
    this.easy = lib.easy_init();
    if (this.easy === 0) throw new Error('curl_easy_init failed');
    this.id = easyTargets.add(this);
  }

  respond(job: TransferJob): void {
    this.head = this.driver.readHead(this);
    job.response(this.head);
  }

  read(into: Uint8Array): number {
    const { upload, job } = this;
    if (upload?.oneShot && job) job.bodySpent = true;
    const n = upload ? upload.read(into) : 0;
    if (n >= 0) {
      this.sent += n;
      return n;
    }
    this.sendPaused = true;
    return CURL_READFUNC_PAUSE;
  }

  progress(downloadTotal: number, downloaded: number, uploadTotal: number, uploaded: number): void {
    // Events come after the response head, but while a body is sent there may be no head yet.
    if (!this.job?.responded && uploaded === 0) return;
    const now = performance.now();
    if (now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    // libcurl's count of a chunked upload includes the chunk framing, while the final event and
    // uploadedBytes count body bytes (`sent`): capped there, `uploaded` never overshoots the body
    // and then goes back.
    const sentBody = this.upload ? Math.min(uploaded, this.sent) : uploaded;
    this.job?.progress(downloaded, downloadTotal, sentBody, uploadTotal);
  }

  /** A new transfer on this handle: counters back to zero, the upload source ready for the first read. */
  begin(job: TransferJob): void {
    this.job = job;
    this.errorBuffer[0] = 0;
    this.received = 0;
    this.sent = 0;
    this.lastProgress = performance.now();
    this.maxBodyBytes = job.request.maxBodyBytes ?? Number.POSITIVE_INFINITY;
    const { body } = job.request;
    if (body?.kind === 'stream') {
      const upload = new UploadSource(body.source);
      this.upload = upload;
      upload.onReady = () => this.driver.unpauseSend(this, job);
    }
  }

  /** The transfer is over: stop its upload source, forget it. */
  end(): void {
    this.upload?.stop();
    this.upload = undefined;
    this.sendPaused = false;
    this.job = undefined;
    this.head = undefined;
  }

  count(bytes: number): Error | undefined {
    this.received += bytes;
    if (this.received <= this.maxBodyBytes) return undefined;
    const url = this.job?.request.url ?? '';
    return new CurlError(
      CURLE_FILESIZE_EXCEEDED,
      `response body exceeds maxBodyBytes (${this.maxBodyBytes} bytes)`,
      url,
    );
  }
}

/** The MultiDriver of real transfers: libcurl's multi_socket API through koffi. */
export class NativeDriver implements MultiDriver, MultiTarget {
  readonly lib: Libcurl;
  runningHandles = 0;
  private multi: Handle = 0;
  private share: Handle = 0;
  /** This driver's entry in multiTargets while a multi handle is open; 0 when closed. */
  private id = 0;
  private callbacks: MultiCallbacks | undefined;
  private readonly byEasy = new Map<Handle, EasySlot>();
  private readonly pool: EasySlot[] = [];
  private readonly polls = new SocketPolls();
  private readonly userAgent: string;
  // Out-parameters, allocated once.
  private readonly running = new Int32Array(1);
  private readonly messagesLeft = new Int32Array(1);
  private readonly number = new Uint32Array(2);
  private readonly numberHigh = new Int32Array(this.number.buffer);
  private readonly text: (string | null)[] = [null];

  constructor(private readonly options: NativeDriverOptions = {}) {
    this.lib = loadLibcurl(options.libcurl);
    this.userAgent = userAgent(this.lib);
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
  socket(fd: number, what: number): void {
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
    this.polls.disown(fd);
    this.callbacks?.socket(fd, CURL_POLL_REMOVE);
    this.polls.socketClosed(fd);
  }

  add(job: TransferJob): void {
    if (job.request.httpVersion === '3' && !libcurlVersion(this.lib).features.http3) {
      throw CurlError.invalidInput(
        'httpVersion',
        `'3' needs a libcurl built with HTTP/3; this one is libcurl ${libcurlVersion(this.lib).libcurl} without it`,
        job.request.url,
      );
    }
    const slot = this.pool.pop() ?? this.createSlot();
    try {
      this.configure(slot, job);
    } catch (err) {
      this.release(slot); // half-configured: `applied` is unset, so its next use resets it
      throw err;
    }
    slot.begin(job);
    job.driverState = slot;
    this.byEasy.set(slot.easy, slot);
    const rc = this.lib.multi_add_handle(this.multi, slot.easy);
    if (rc !== 0) {
      this.byEasy.delete(slot.easy);
      job.driverState = undefined;
      this.release(slot);
      throw new CurlError(rc, `curl_multi_add_handle failed: ${this.describeMultiCode(rc)}`, job.request.url);
    }
  }

  resume(job: TransferJob): void {
    const slot = job.driverState as EasySlot | undefined;
    if (!slot) return;
    // Resuming receive may deliver the held-back chunk at once, through the write callback.
    this.lib.easy_pause(slot.easy, slot.sendPaused ? CURLPAUSE_SEND : CURLPAUSE_CONT);
  }

  /** The upload source has bytes (or its end) again: let libcurl call the read callback. */
  unpauseSend(slot: EasySlot, job: TransferJob): void {
    this.callbacks?.defer(() => {
      if (slot.job !== job || !slot.sendPaused) return;
      slot.sendPaused = false;
      this.lib.easy_pause(slot.easy, job.paused ? CURLPAUSE_RECV : CURLPAUSE_CONT);
    });
  }

  remove(job: TransferJob): void {
    const slot = job.driverState as EasySlot | undefined;
    if (!slot) return;
    this.detach(slot);
    // A cancelled transfer was still running; libcurl only says so at its next action.
    this.runningHandles = Math.min(this.runningHandles, this.byEasy.size);
  }

  socketAction(fd: number, events: number): number {
    const rc = this.lib.multi_socket_action(this.multi, fd, events, this.running);
    this.runningHandles = this.running[0];
    return rc;
  }

  socketAll(): number {
    const rc = this.lib.multi_socket_all(this.multi, this.running);
    this.runningHandles = this.running[0];
    return rc;
  }

  drain(onDone: (job: TransferJob, result: TransferResult) => void): void {
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
      const job = slot?.job;
      if (!slot || !job) continue;
      const result = this.readResult(slot, job, code);
      if (job.active && job.callbackError === undefined) {
        try {
          if (!job.responded && result.status > 0) slot.respond(job);
          // The final progress event carries the full totals.
          const { downloadedBytes: down, uploadedBytes: up } = result;
          if (code === 0 && job.request.progress) job.progress(down, down, up, up);
        } catch (err) {
          job.callbackError = err; // this transfer's failure, not the multi handle's
        }
      }
      this.detach(slot);
      onDone(job, result);
    }
  }

  readiness(fd: number, interest: Observable<number>): Observable<number> {
    return this.polls.watch(fd, interest);
  }

  describeMultiCode(code: number): string {
    return this.lib.multi_strerror(code);
  }

  handleCounts(): { attached: number; pooled: number } {
    return { attached: this.byEasy.size, pooled: this.pool.length };
  }

  close(): void {
    if (this.multi === 0) return;
    for (const slot of [...this.byEasy.values()]) this.detach(slot);
    for (const slot of this.pool.splice(0)) this.destroy(slot);
    this.lib.multi_cleanup(this.multi);
    this.lib.share_cleanup(this.share); // after every easy handle that used it is gone
    this.polls.closeAll();
    multiTargets.release(this.id); // after multi_cleanup, which may still call the socket callbacks
    this.id = 0;
    this.multi = 0;
    this.share = 0;
    this.runningHandles = 0;
  }

  /** The final response head, read after the fact: no callback per header line. */
  readHead(slot: EasySlot): ResponseHead {
    const { easy } = slot;
    const headers: Headers = {};
    const { lib } = this;
    for (
      let h = lib.easy_nextheader(easy, CURLH_HEADER, -1, null);
      h;
      h = lib.easy_nextheader(easy, CURLH_HEADER, -1, h)
    ) {
      // struct curl_header starts with `char *name; char *value;`.
      const name = koffi.decode(h, 0, 'const char *') as string;
      const value = koffi.decode(h, POINTER_SIZE, 'const char *') as string;
      // libcurl 7.88's curl_easy_header leaves the CR of an empty value ("X-Empty: \r\n" gives "\r");
      // it trims trailing whitespace of every other value itself.
      addHeader(headers, name.toLowerCase(), value === '\r' ? '' : value);
    }
    return {
      status: this.infoNumber(easy, CURLINFO.RESPONSE_CODE),
      httpVersion: httpVersionName(this.infoNumber(easy, CURLINFO.HTTP_VERSION)),
      headers,
      url: this.infoString(easy, CURLINFO.EFFECTIVE_URL),
    };
  }

  private readResult(slot: EasySlot, job: TransferJob, code: number): TransferResult {
    const { easy } = slot;
    const info = (id: number) => this.infoNumber(easy, id);
    const micros = (id: number) => this.infoNumber(easy, id) / 1000;
    const { request } = job;
    const { head } = slot;
    return {
      id: job.id,
      url: request.url,
      effectiveUrl: head ? head.url : this.infoString(easy, CURLINFO.EFFECTIVE_URL),
      method: request.method,
      ok: code === 0,
      code,
      codeName: curlCodeName(code),
      message: code === 0 ? '' : errorText(slot.errorBuffer) || this.lib.easy_strerror(code),
      status: head ? head.status : info(CURLINFO.RESPONSE_CODE),
      httpVersion: head ? head.httpVersion : httpVersionName(info(CURLINFO.HTTP_VERSION)),
      downloadedBytes: info(CURLINFO.SIZE_DOWNLOAD_T),
      uploadedBytes: slot.upload ? slot.sent : info(CURLINFO.SIZE_UPLOAD_T),
      redirects: info(CURLINFO.REDIRECT_COUNT),
      primaryIp: this.infoString(easy, CURLINFO.PRIMARY_IP),
      primaryPort: info(CURLINFO.PRIMARY_PORT),
      timings: {
        dnsMs: micros(CURLINFO.NAMELOOKUP_TIME_T),
        connectMs: micros(CURLINFO.CONNECT_TIME_T),
        tlsMs: micros(CURLINFO.APPCONNECT_TIME_T),
        firstByteMs: micros(CURLINFO.STARTTRANSFER_TIME_T),
        totalMs: micros(CURLINFO.TOTAL_TIME_T),
        redirectMs: micros(CURLINFO.REDIRECT_TIME_T),
      },
    };
  }

  /** A long or curl_off_t info, read without BigInt: low word unsigned, high word signed. */
  private infoNumber(easy: Handle, id: number): number {
    const out = this.number;
    out[0] = 0;
    out[1] = 0;
    this.lib.easy_getinfo.number(easy, id, out);
    return out[0] + this.numberHigh[1] * 4294967296;
  }

  private infoString(easy: Handle, id: number): string {
    const out = this.text;
    out[0] = null;
    this.lib.easy_getinfo.string(easy, id, out);
    return out[0] ?? '';
  }

  private createSlot(): EasySlot {
    const slot = new EasySlot(this, this.lib);
    this.applyConstants(slot);
    return slot;
  }

  /** Options every transfer of a slot shares; set again after curl_easy_reset. */
  private applyConstants(slot: EasySlot): void {
    const { lib } = this;
    const fns = registeredCallbacks();
    const { easy } = slot;
    lib.easy_setopt.pointer(easy, CURLOPT.WRITEFUNCTION, fns.write);
    lib.easy_setopt.long(easy, CURLOPT.WRITEDATA, slot.id);
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

  private configure(slot: EasySlot, job: TransferJob): void {
    const { lib } = this;
    const { request } = job;
    const headerKey = request.headers.length === 0 ? '' : request.headers.map(headerLine).join('\n');
    const oldList = slot.headerList;
    if (headerKey !== slot.headerKey) {
      let list = 0;
      for (const header of request.headers) list = lib.slist_append(list, headerLine(header));
      slot.headerList = list;
      slot.headerKey = headerKey;
    }
    this.applyOptions(slot, compileOptions(lib, request, slot.headerList, this.userAgent));
    // Freed only now: until the options above replaced it, the handle still pointed at it.
    if (oldList !== slot.headerList && oldList !== 0) lib.slist_free_all(oldList);
  }

  private applyOptions(slot: EasySlot, next: EasyOptions): void {
    const prev = slot.applied;
    const { ids, values } = next;
    const sameShape =
      prev !== undefined && prev.ids.length === ids.length && prev.ids.every((id, i) => id === ids[i]);
    if (!sameShape && !slot.fresh) {
      this.lib.easy_reset(slot.easy);
      this.applyConstants(slot);
    }
    slot.applied = undefined;
    slot.fresh = false;
    for (let i = 0; i < ids.length; i++) {
      if (sameShape && prev!.values[i] === values[i]) continue;
      const rc = setOption(this.lib, slot.easy, ids[i], values[i]);
      if (rc !== 0) {
        throw CurlError.invalidInput(
          next.fields[i],
          `was refused by libcurl: ${this.lib.easy_strerror(rc)}`,
          next.url,
        );
      }
    }
    slot.applied = next;
  }

  private detach(slot: EasySlot): void {
    const job = slot.job;
    if (job) job.driverState = undefined;
    if (this.byEasy.delete(slot.easy)) this.lib.multi_remove_handle(this.multi, slot.easy);
    this.release(slot);
  }

  private release(slot: EasySlot): void {
    slot.end();
    if (this.pool.length < MAX_POOLED && this.multi !== 0) this.pool.push(slot);
    else this.destroy(slot);
  }

  private destroy(slot: EasySlot): void {
    this.lib.easy_cleanup(slot.easy);
    if (slot.headerList !== 0) this.lib.slist_free_all(slot.headerList);
    easyTargets.release(slot.id);
  }
}

function headerLine([name, value]: readonly [string, string]): string {
  // libcurl's syntax for a header with an empty value is "Name;".
  return value === '' ? `${name};` : `${name}: ${value}`;
}

function addHeader(headers: Headers, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) {
    if (name === '__proto__')
      Object.defineProperty(headers, name, { value, enumerable: true, writable: true });
    else headers[name] = value;
  } else if (typeof existing === 'string') headers[name] = [existing, value];
  else existing.push(value);
}

function errorText(buffer: Buffer): string {
  return buffer.toString('latin1', 0, Math.max(0, buffer.indexOf(0)));
}

function httpVersionName(version: number): string {
  return version === CURL_HTTP_VERSION_3 ? '3' : (HTTP_VERSION_NAMES[version] ?? '');
}
