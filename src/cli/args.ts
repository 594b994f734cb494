import { parseArgs } from 'node:util';

/** What the command line asked for. */
export interface CliOptions {
  /** URLs given as arguments, in order. */
  urls: string[];
  /** `-i FILE`: a file of URLs, one a line; `-` is standard input. */
  inputFile?: string;
  /** `-j N`: transfers at once. */
  jobs: number;
  /** `--max-per-host N`: transfers at once to one host (origin). */
  maxPerHost?: number;
  /** `--rate-per-host N`: starts per second on one host. */
  ratePerHost?: number;
  /** `--delay-per-host MS`: at least this long between two starts on one host. */
  delayPerHostMs?: number;
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
  /** `--proto LIST`: allowed protocols (e.g. http,https,ftp); unset, the library's default. */
  protocols?: string[];
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
       rxcurl enqueue|worker|status|results --redis URL ...   (many machines; rxcurl COMMAND --help)

Downloads every URL, several at a time, into files named after the URL's path.

Options:
  -j, --jobs N          transfers at once (default 8)
      --max-per-host N  transfers at once to one host (scheme://host:port)
      --rate-per-host N starts per second on one host (a number > 0, e.g. 0.5)
      --delay-per-host MS
                        at least MS milliseconds between two starts on one host
  -o, --output DIR      folder for the files (default .), created if missing
  -i, --input FILE      read URLs from FILE, one a line (- for standard input)
      --retry N         retry connection errors, timeouts and 429/502/503/504 N times (default 0);
                        a 429/503 with Retry-After pauses its host (at most 5 s)
      --resume          continue partial files (.NAME.part) left by an earlier run;
                        partial files are kept on failure and on Ctrl-C
      --update          download a file that exists only if the server's is newer
                        (If-Modified-Since its mtime, which downloads set to Last-Modified)
      --http2           ask for HTTP/2
      --timeout SECONDS give up an attempt after this long
      --proto LIST      allowed protocols, e.g. http,https,ftp (default http,https)
  -q, --quiet           print only failures (on standard error)
  -h, --help            show this help
  -V, --version         show the versions of rxcurl and libcurl

URLs are read from standard input when none are given and it is not a terminal.
Exit status: 0 all succeeded, 1 some failed, 2 usage error, 130 interrupted (Ctrl-C), 143 terminated.
Ctrl-C cancels every transfer and removes their partial files (kept with --resume).

Many machines, one list of URLs in Redis (needs the packages bullmq and ioredis):
  rxcurl enqueue --redis URL [--queue NAME] [URL... | -i FILE]   add URLs (each once)
  rxcurl worker --redis URL [-j N] [-o DIR] [per-host options]   download them until SIGTERM
  rxcurl status --redis URL [--queue NAME]    jobs by state, top failure reasons
  rxcurl results --redis URL [--queue NAME]   every result record, one JSON a line`;

/** An integer >= `min` from option `name`, or `fallback` when the option is absent. */
export function integer<F extends number | undefined>(
  name: string,
  value: string | undefined,
  fallback: F,
  min: number,
): number | F {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(`${name} needs an integer >= ${min}, got '${value}'`);
  }
  return Number(value);
}

/** A number > 0 (decimals allowed), or undefined when the option is absent. */
export function positive(name: string, value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${name} needs ${what} > 0, got '${value}'`);
  }
  return n;
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
  const seconds = positive('--timeout', values.timeout, 'a number of seconds');
  return {
    urls: positionals,
    inputFile: values.input,
    jobs: integer('-j', values.jobs, 8, 1),
    maxPerHost: integer('--max-per-host', values['max-per-host'], undefined, 1),
    ratePerHost: positive('--rate-per-host', values['rate-per-host'], 'a number of starts per second'),
    delayPerHostMs: integer('--delay-per-host', values['delay-per-host'], undefined, 0),
    outDir: values.output ?? '.',
    retry: integer('--retry', values.retry, 0, 0),
    resume: values.resume ?? false,
    update: values.update ?? false,
    http2: values.http2 ?? false,
    timeoutMs: seconds === undefined ? undefined : Math.round(seconds * 1000),
    protocols: values.proto?.split(',').map((p) => p.trim().toLowerCase()),
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
      'max-per-host': { type: 'string' },
      'rate-per-host': { type: 'string' },
      'delay-per-host': { type: 'string' },
      output: { type: 'string', short: 'o' },
      input: { type: 'string', short: 'i' },
      retry: { type: 'string' },
      resume: { type: 'boolean' },
      update: { type: 'boolean' },
      http2: { type: 'boolean' },
      timeout: { type: 'string' },
      proto: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
    },
  });
}
