import { createReadStream } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';

/** A line as a URL: trimmed; undefined for a blank line or a `#` comment. */
function urlOf(line: string): string | undefined {
  const url = line.trim();
  return url === '' || url.startsWith('#') ? undefined : url;
}

/**
 * The URLs to fetch, in order: the arguments, then the lines of `inputFile` (`-` for `stdin`), or
 * the lines of `stdin` when there is neither. Blank lines and lines starting with `#` are skipped.
 *
 * An AsyncIterable read only as fast as it is iterated: readline's async iterator pauses its
 * input while lines wait unread (on Node 20 a 37 MB list idles at 128 KiB read), so a list of
 * millions of URLs is never in memory. A read error ends the iteration and is kept in `error`.
 */
export class UrlSource implements AsyncIterable<string> {
  /** Why reading stopped early, if it did. */
  error: unknown;
  private input: Readable | undefined;
  private reader: Interface | undefined;
  private closed = false;

  constructor(
    private readonly args: readonly string[],
    private readonly inputFile: string | undefined,
    private readonly stdin: Readable,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    for (const arg of this.args) {
      const url = urlOf(arg);
      if (url !== undefined) yield url;
    }
    const { inputFile } = this;
    if (this.closed || (inputFile === undefined && this.args.length > 0)) return;
    this.input = inputFile === undefined || inputFile === '-' ? this.stdin : createReadStream(inputFile);
    this.reader = createInterface({ input: this.input, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of this.reader) {
        const url = urlOf(line);
        if (url !== undefined) yield url;
      }
    } catch (error) {
      this.error = error;
    } finally {
      this.close();
    }
  }

  /** Stops reading and releases the input; a pending read ends the iteration. Idempotent. */
  close(): void {
    this.closed = true;
    this.reader?.close();
    this.input?.destroy();
  }
}
