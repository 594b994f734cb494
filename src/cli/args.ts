import { parseArgs } from 'node:util';

/** What the command line asked for. */
export interface CliOptions {
  /** URLs given as arguments, in order. */
  urls: string[];
  /** `-i FILE`: a file of URLs, one a line; `-` is standard input. */
  inputFile?: string;
  /** `-j N`: transfers at once. */
  jobs: number;
  /** `-o DIR`: where files go. */
  outDir: string;
  /** `--retry N`: retries of a transient failure, after the first attempt. */
  retry: number;
  /** `--resume`: continue partial files, and keep them when a transfer fails or is cancelled. */
  resume: boolean;
  /** `--update`: download a file that exists only when the server has a newer one (If-Modified-Since). */
  update: boolean;
  /** `--http2`: ask for HTTP/2. */
  http2: boolean;
  /** `--timeout SECONDS`, in milliseconds: the whole of each attempt. */
  timeoutMs?: number;
  /** `-q`: no bars, no completion lines, no summary; failures still go to standard error. */
  quiet: boolean;
  help: boolean;
  version: boolean;
}

/** A command line that cannot be run; the CLI prints its message and the usage, and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: rxcurl [options] URL...
       rxcurl [options] -i urls.txt
       command | rxcurl [options]

Downloads every URL, several at a time, into files named after the URL's path.

Options:
  -j, --jobs N          transfers at once (default 8)
  -o, --output DIR      folder for the files (default .), created if missing
  -i, --input FILE      read URLs from FILE, one a line (- for standard input)
      --retry N         retry connection errors, timeouts and 429/502/503/504 N times (default 0)
      --resume          continue partial files (.NAME.part) left by an earlier run;
                        partial files are kept on failure and on Ctrl-C
      --update          download a file that exists only if the server's is newer
                        (If-Modified-Since its mtime, which downloads set to Last-Modified)
      --http2           ask for HTTP/2
      --timeout SECONDS give up an attempt after this long
  -q, --quiet           print only failures (on standard error)
  -h, --help            show this help
  -V, --version         show the versions of rxcurl and libcurl

URLs are read from standard input when none are given and it is not a terminal.
Exit status: 0 all succeeded, 1 some failed, 2 usage error, 130 interrupted (Ctrl-C), 143 terminated.
Ctrl-C cancels every transfer and removes their partial files (kept with --resume).`;

function integer(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(`${name} needs an integer >= ${min}, got '${value}'`);
  }
  return Number(value);
}

/** Parses the arguments after `node main.js` with Node's own `util.parseArgs`. */
export function parseCliArgs(argv: readonly string[]): CliOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (values.timeout.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
      throw new UsageError(`--timeout needs a number of seconds > 0, got '${values.timeout}'`);
    }
    timeoutMs = Math.round(seconds * 1000);
  }
  return {
    urls: positionals,
    inputFile: values.input,
    jobs: integer('-j', values.jobs, 8, 1),
    outDir: values.output ?? '.',
    retry: integer('--retry', values.retry, 0, 0),
    resume: values.resume ?? false,
    update: values.update ?? false,
    http2: values.http2 ?? false,
    timeoutMs,
    quiet: values.quiet ?? false,
    help: values.help ?? false,
    version: values.version ?? false,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      jobs: { type: 'string', short: 'j' },
      output: { type: 'string', short: 'o' },
      input: { type: 'string', short: 'i' },
      retry: { type: 'string' },
      resume: { type: 'boolean' },
      update: { type: 'boolean' },
      http2: { type: 'boolean' },
      timeout: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
    },
  });
}
