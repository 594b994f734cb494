import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { concat, filter, from, map, Observable } from 'rxjs';

/** The lines of a stream as they arrive; unsubscribing stops reading it. */
export function lines(input: Readable): Observable<string> {
  return new Observable<string>((subscriber) => {
    const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    // readline re-emits the errors of its input.
    reader.on('error', (error: Error) => subscriber.error(error));
    reader.on('line', (line) => subscriber.next(line));
    reader.on('close', () => subscriber.complete());
    return () => {
      reader.close();
      input.destroy();
    };
  });
}

/**
 * The URLs to fetch, in order: the arguments, then the lines of `inputFile` (`-` for `stdin`), or
 * the lines of `stdin` when there is neither. Blank lines and lines starting with `#` are skipped.
 * Lines are emitted as they are read, so a transfer can start before the input ends.
 */
export function urlSource(
  args: readonly string[],
  inputFile: string | undefined,
  stdin: Readable,
): Observable<string> {
  const sources: Observable<string>[] = [from(args)];
  if (inputFile !== undefined) {
    sources.push(lines(inputFile === '-' ? stdin : createReadStream(inputFile)));
  } else if (args.length === 0) {
    sources.push(lines(stdin));
  }
  return concat(...sources).pipe(
    map((line) => line.trim()),
    filter((line) => line !== '' && !line.startsWith('#')),
  );
}
