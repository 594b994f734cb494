import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { isObservable, type Observable, type Subscription } from 'rxjs';

/** Bytes buffered ahead of libcurl before a Readable is paused. */
const HIGH_WATER_MARK = 1024 * 1024;

/**
 * A request body streamed as libcurl asks for it. A Readable is paused while more than 1 MiB waits,
 * so an upload of any size runs in flat memory; an Observable pushes as it pleases (that is what an
 * Observable is), so its chunks are queued. A Blob (a File of a web FormData) is read through a
 * Readable, never whole.
 */
export class UploadSource {
  private readonly chunks: Uint8Array[] = [];
  private offset = 0;
  private buffered = 0;
  private ended = false;
  private failure: unknown = undefined;
  private subscription: Subscription | undefined;
  private readable: Readable | undefined;
  /** Called when bytes or the end arrive while the reader waits for them. */
  onReady: (() => void) | undefined = undefined;
  private waiting = false;
  private started = false;

  /** A Readable is read once; an Observable is subscribed again, a Blob read again, for the next attempt. */
  readonly oneShot: boolean;

  constructor(private readonly source: Readable | Observable<Uint8Array> | Blob) {
    this.oneShot = source instanceof Readable;
  }

  /** Started by the first read, so a transfer that fails before it sends leaves the source untouched. */
  private start(): void {
    this.started = true;
    const { source } = this;
    if (isObservable(source)) {
      this.subscription = source.subscribe({
        next: (chunk) => this.push(chunk),
        error: (err) => this.fail(err),
        complete: () => this.end(),
      });
      return;
    }
    const readable =
      source instanceof Readable ? source : Readable.fromWeb(source.stream() as ReadableStream<Uint8Array>);
    this.readable = readable;
    readable.on('data', this.onData);
    readable.once('end', this.onEnd);
    readable.once('error', this.onError);
  }

  /**
   * Copies what is buffered into `into`. Returns the bytes copied; 0 at the end of the body;
   * -1 when nothing is there yet (the reader pauses and `onReady` tells when to try again).
   * Throws the source's error.
   */
  read(into: Uint8Array): number {
    if (!this.started) this.start();
    if (this.failure !== undefined) throw this.failure;
    let copied = 0;
    while (copied < into.length && this.chunks.length > 0) {
      const chunk = this.chunks[0];
      const n = Math.min(into.length - copied, chunk.length - this.offset);
      into.set(chunk.subarray(this.offset, this.offset + n), copied);
      copied += n;
      this.offset += n;
      if (this.offset === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    this.buffered -= copied;
    if (this.readable?.isPaused() && this.buffered < HIGH_WATER_MARK / 2) this.readable.resume();
    if (copied > 0 || this.ended) return copied;
    this.waiting = true;
    return -1;
  }

  stop(): void {
    this.onReady = undefined;
    if (!this.started) return;
    this.subscription?.unsubscribe();
    const { readable } = this;
    if (readable) {
      readable.off('data', this.onData);
      readable.off('end', this.onEnd);
      readable.off('error', this.onError);
      readable.destroy();
    }
    this.chunks.length = 0;
  }

  private readonly onData = (chunk: Uint8Array | string) => {
    this.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (this.buffered > HIGH_WATER_MARK) this.readable?.pause();
  };
  private readonly onEnd = () => this.end();
  private readonly onError = (err: unknown) => this.fail(err);

  private push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.wake();
  }

  private end(): void {
    this.ended = true;
    this.wake();
  }

  private fail(err: unknown): void {
    this.failure = err ?? new Error('upload source failed');
    this.wake();
  }

  private wake(): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.onReady?.();
  }
}
