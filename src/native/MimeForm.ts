import type { DriverTransfer } from '../core/MultiDriver.js';
import type { NormalizedFormPart } from '../core/NormalizedRequest.js';
import { UploadSource } from '../core/UploadSource.js';
import { CurlError } from '../errors/CurlError.js';
import { CURLE } from '../errors/curlCodes.js';
import { partTargets, type ReadTarget, registeredCallbacks } from './callbacks.js';
import { CURL_READFUNC_PAUSE } from './constants.js';
import type { Handle, Libcurl } from './libcurl.js';

/** The easy handle a form is built for, and through which its streamed parts are read (EasySlot). */
export interface FormHost {
  readonly easy: Handle;
  readonly transfer: DriverTransfer | undefined;
  /** Reads `upload` for libcurl: bytes, 0 at the end, or CURL_READFUNC_PAUSE until it has more. */
  readFrom(upload: UploadSource, into: Uint8Array): number;
}

/** A part whose content libcurl reads through the part read callback (curl_mime_data_cb). */
class StreamedPart implements ReadTarget {
  /** Its entry in partTargets: the `arg` libcurl passes back to the callback. */
  readonly id: number;
  private count = 0;

  constructor(
    private readonly host: FormHost,
    readonly upload: UploadSource,
    private readonly size: number | undefined,
    private readonly field: string,
  ) {
    this.id = partTargets.add(this);
  }

  get transfer(): DriverTransfer | undefined {
    return this.host.transfer;
  }

  read(into: Uint8Array): number {
    const { size } = this;
    // With a size, libcurl has announced the body's length: a source that ends early would leave the
    // server waiting for the rest, so that fails the transfer. One byte more than what is left is
    // asked for, so that extra bytes arriving with the last ones fail it too.
    const room = size === undefined ? into : into.subarray(0, Math.min(into.length, size - this.count + 1));
    const n = this.host.readFrom(this.upload, room);
    if (n === CURL_READFUNC_PAUSE) return n;
    this.count += n;
    if (size !== undefined && (this.count > size || (n === 0 && this.count < size))) {
      const problem = this.count > size ? 'more' : `only ${this.count}`;
      const url = this.transfer?.request.url ?? '';
      throw new CurlError(
        CURLE.READ_ERROR,
        `${this.field}.data gave ${problem} bytes, not its size ${size}`,
        url,
      );
    }
    return n;
  }
}

/**
 * The curl_mime of one transfer's form (CURLOPT_MIMEPOST) with its streamed parts. It lives as long
 * as the transfer; `free` releases it and every part once the easy handle no longer points at it.
 */
export class MimeForm {
  private readonly streamed: StreamedPart[] = [];

  private constructor(
    private readonly lib: Libcurl,
    readonly mime: Handle,
  ) {}

  /**
   * Builds the mime for `parts`. Throws INVALID_INPUT naming the part for what libcurl refuses (a
   * file it cannot read: curl_mime_filedata checks it is there and readable).
   */
  static build(lib: Libcurl, host: FormHost, parts: readonly NormalizedFormPart[], url: string): MimeForm {
    const mime = lib.mime_init(host.easy);
    if (mime === 0) throw new CurlError(CURLE.OUT_OF_MEMORY, 'curl_mime_init failed', url);
    const form = new MimeForm(lib, mime);
    try {
      for (let i = 0; i < parts.length; i++) form.add(host, parts[i], `form[${i}]`, url);
    } catch (err) {
      form.free();
      throw err;
    }
    return form;
  }

  /** Called when a streamed part has bytes (or its end) again while the transfer waits for them. */
  set onReady(wake: () => void) {
    for (const part of this.streamed) part.upload.onReady = wake;
  }

  /** Frees the mime and stops the parts' sources. */
  free(): void {
    this.lib.mime_free(this.mime);
    for (const part of this.streamed) {
      part.upload.stop();
      partTargets.release(part.id);
    }
    this.streamed.length = 0;
  }

  private add(host: FormHost, part: NormalizedFormPart, field: string, url: string): void {
    const { lib } = this;
    const check = (rc: number, at: string) => {
      if (rc === CURLE.OK) return;
      if (rc === CURLE.READ_ERROR && part.kind === 'file')
        throw CurlError.invalidInput(at, `cannot be read: ${JSON.stringify(part.path)}`, url);
      throw new CurlError(rc, `${at} was refused by libcurl: ${lib.easy_strerror(rc)}`, url);
    };
    const handle = lib.mime_addpart(this.mime);
    if (handle === 0) throw new CurlError(CURLE.OUT_OF_MEMORY, 'curl_mime_addpart failed', url);
    check(lib.mime_name(handle, part.name), `${field}.name`);
    switch (part.kind) {
      case 'value': {
        const bytes = Buffer.from(part.value);
        check(lib.mime_data(handle, bytes, bytes.length), `${field}.value`);
        return;
      }
      case 'file':
        check(lib.mime_filedata(handle, part.path), `${field}.file`);
        break;
      case 'bytes':
        check(lib.mime_data(handle, part.bytes, part.bytes.byteLength), `${field}.data`);
        break;
      case 'stream': {
        const streamed = new StreamedPart(host, new UploadSource(part.source), part.size, field);
        this.streamed.push(streamed);
        const read = registeredCallbacks().partRead;
        check(lib.mime_data_cb(handle, part.size ?? -1, read, null, null, streamed.id), `${field}.data`);
        break;
      }
    }
    if (part.filename !== undefined) check(lib.mime_filename(handle, part.filename), `${field}.filename`);
    if (part.contentType !== undefined)
      check(lib.mime_type(handle, part.contentType), `${field}.contentType`);
  }
}
