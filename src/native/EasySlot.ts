import type { DriverTransfer } from '../core/MultiDriver.js';
import type { ResponseHead } from '../core/types.js';
import { UploadSource } from '../core/UploadSource.js';
import { CurlError } from '../errors/CurlError.js';
import { CURLE } from '../errors/curlCodes.js';
import { type EasyTarget, easyTargets } from './callbacks.js';
import { CURL_ERROR_SIZE, CURL_READFUNC_PAUSE, CURLOPT } from './constants.js';
import { EasyOptions } from './easyOptions.js';
import { libc } from './libc.js';
import type { Handle, Libcurl } from './libcurl.js';
import type { FormHost, MimeForm } from './MimeForm.js';
import { OptionLists } from './OptionLists.js';
import { readHead } from './readResponse.js';

const PROGRESS_INTERVAL_MS = 100;

/**
 * One easy handle with what stays with it between transfers (its options, header list, error
 * buffer) and the state of the transfer it runs: the driver's per-transfer state.
 */
export class EasySlot implements EasyTarget, FormHost {
  /** Its entry in easyTargets: the integer libcurl passes back to the easy callbacks. */
  readonly id: number;
  readonly easy: Handle;
  readonly errorBuffer = Buffer.alloc(CURL_ERROR_SIZE);
  transfer: DriverTransfer | undefined = undefined;
  /** Its easy handle is in the multi handle. */
  attached = false;
  /** The options last applied, to set only what changed when the next request has the same shape. */
  applied: EasyOptions | undefined = undefined;
  /** Where the next request's options are compiled; it and `applied` trade places once applied. */
  spare = new EasyOptions();
  /** Nothing but the constant options set yet, so no curl_easy_reset is needed. */
  fresh = true;
  headerKey = '';
  headerList: Handle = 0;
  /** The lists of list options (RESOLVE, CONNECT_TO, curlOptions' string[]) the handle points at. */
  readonly lists = new OptionLists();
  upload: UploadSource | undefined = undefined;
  /** The transfer's multipart form (CURLOPT_MIMEPOST), freed when the transfer ends. */
  form: MimeForm | undefined = undefined;
  /** The response head given to the transfer, if any: its status, version and URL are final. */
  head: ResponseHead | undefined = undefined;
  /** Body bytes handed to libcurl; its own count includes chunked framing. */
  sent = 0;
  /** The read callback returned CURL_READFUNC_PAUSE and waits for the upload source. */
  sendPaused = false;
  /** libcurl's default write function writes the body to this FILE (a download's sink); 0 for none. */
  file: Handle = 0;
  /** CURLOPT_WRITEFUNCTION and WRITEDATA are set for a file, not for our write callback. */
  writesToFile = false;
  private received = 0;
  private maxBodyBytes = Number.POSITIVE_INFINITY;
  private lastProgress = 0;
  /** The figures of libcurl's last progress call: downloaded, downloadTotal, uploaded, uploadTotal. */
  private readonly latestProgress = [0, 0, 0, 0];
  private progressTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    private readonly lib: Libcurl,
    /** The upload source of `transfer` has bytes again while the read callback is paused. */
    private readonly onUploadReady: (slot: EasySlot, transfer: DriverTransfer) => void,
  ) {
    this.easy = lib.easy_init();
    if (this.easy === 0) throw new Error('curl_easy_init failed');
    this.id = easyTargets.add(this);
  }

  respond(transfer: DriverTransfer): void {
    this.head = readHead(this.lib, this.easy);
    transfer.response(this.head);
  }

  read(into: Uint8Array): number {
    const { upload } = this;
    const n = upload ? this.readFrom(upload, into) : 0;
    if (n !== CURL_READFUNC_PAUSE) this.sent += n;
    return n;
  }

  readFrom(upload: UploadSource, into: Uint8Array): number {
    const { transfer } = this;
    if (upload.oneShot && transfer) transfer.readFromBody();
    const n = upload.read(into);
    if (n >= 0) return n;
    this.sendPaused = true;
    return CURL_READFUNC_PAUSE;
  }

  progress(downloadTotal: number, downloaded: number, uploadTotal: number, uploaded: number): void {
    const { transfer } = this;
    if (!transfer) return;
    // libcurl writes a sink's body itself, so no write callback reports the head: the first
    // progress with bytes of body does.
    if (!transfer.responded && downloaded > 0 && this.file !== 0) this.respond(transfer);
    // Events come after the response head, but while a body is sent there may be no head yet.
    if (!transfer.responded && uploaded === 0) return;
    // libcurl's count of a chunked upload includes the chunk framing, while the final event and
    // uploadedBytes count body bytes (`sent`): capped there, `uploaded` never overshoots the body
    // and then goes back.
    const sentBody = this.upload ? Math.min(uploaded, this.sent) : uploaded;
    const latest = this.latestProgress;
    latest[0] = downloaded;
    latest[1] = downloadTotal;
    latest[2] = sentBody;
    latest[3] = uploadTotal;
    const wait = PROGRESS_INTERVAL_MS - (performance.now() - this.lastProgress);
    if (wait <= 0) this.emitProgress();
    // At most one event per interval, and the latest figures once it is over, even when libcurl
    // calls back no more (a stalled transfer): a timer only while an event is held back.
    else this.progressTimer ??= setTimeout(() => this.emitProgress(), wait).unref();
  }

  private emitProgress(): void {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = undefined;
    this.lastProgress = performance.now();
    const [downloaded, downloadTotal, uploaded, uploadTotal] = this.latestProgress;
    this.transfer?.progress(downloaded!, downloadTotal!, uploaded!, uploadTotal!);
  }

  count(bytes: number): Error | undefined {
    this.received += bytes;
    if (this.received <= this.maxBodyBytes) return undefined;
    return new CurlError(
      CURLE.FILESIZE_EXCEEDED,
      `response body exceeds maxBodyBytes (${this.maxBodyBytes} bytes)`,
      this.transfer?.request.url ?? '',
    );
  }

  /** A new transfer on this handle: counters back to zero, the upload source ready for the first read. */
  begin(transfer: DriverTransfer): void {
    this.transfer = transfer;
    this.errorBuffer[0] = 0;
    this.received = 0;
    this.sent = 0;
    this.lastProgress = performance.now();
    this.maxBodyBytes = transfer.request.maxBodyBytes ?? Number.POSITIVE_INFINITY;
    const { body } = transfer.request;
    if (body?.kind === 'stream') {
      const upload = new UploadSource(body.source);
      this.upload = upload;
      upload.onReady = () => this.onUploadReady(this, transfer);
    }
    if (this.form) this.form.onReady = () => this.onUploadReady(this, transfer);
  }

  /** Flushes and closes the sink's file; false when that failed (its last bytes may be lost). */
  closeFile(): boolean {
    const { file } = this;
    if (file === 0) return true;
    this.file = 0;
    return libc().fclose(file) === 0;
  }

  /** The transfer is over: close its file, stop its upload source, forget it. */
  end(): void {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = undefined;
    this.closeFile();
    this.upload?.stop();
    this.upload = undefined;
    if (this.form) this.freeForm(this.form);
    this.sendPaused = false;
    this.transfer = undefined;
    this.head = undefined;
  }

  /**
   * Unhooks the form from the handle, which may be pooled and reused, then frees it. libcurl may
   * hand out the same address for a later form: the applied value is forgotten so it is set again.
   */
  private freeForm(form: MimeForm): void {
    this.form = undefined;
    this.lib.easy_setopt.pointer(this.easy, CURLOPT.MIMEPOST, null);
    this.applied?.forget(CURLOPT.MIMEPOST);
    form.free();
  }

  /** libcurl's error text for the last transfer, '' for none. */
  errorText(): string {
    const buffer = this.errorBuffer;
    return buffer.toString('latin1', 0, Math.max(0, buffer.indexOf(0)));
  }

  /** Frees the easy handle, its header list and option lists; the slot is gone. */
  destroy(): void {
    this.lists.release(this.lib, this.easy);
    this.lib.easy_cleanup(this.easy);
    if (this.headerList !== 0) this.lib.slist_free_all(this.headerList);
    easyTargets.release(this.id);
  }
}
