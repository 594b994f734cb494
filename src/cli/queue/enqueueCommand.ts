import { parseArgs } from 'node:util';
import { enqueue, type QueueConnection } from '../../queue/index.js';
import { UsageError } from '../args.js';
import { UrlSource } from '../urls.js';
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  connectionOf,
  type QueueCommand,
  usageErrors,
} from './QueueCommand.js';

interface EnqueueArgs {
  help: boolean;
  conn: QueueConnection;
  urls: string[];
  inputFile?: string;
}

/**
 * `rxcurl enqueue`: the URLs of the arguments, of `-i FILE` or of standard input, through the
 * library's batched `enqueue()` (lines read only as batches go out: flat memory for any length).
 */
export const enqueueCommand: QueueCommand<EnqueueArgs> = {
  usage: `Usage: rxcurl enqueue --redis URL [--queue NAME] URL...
       rxcurl enqueue --redis URL [--queue NAME] -i urls.txt
       command | rxcurl enqueue --redis URL [--queue NAME]

Adds one job per URL to the queue, 1,000 per round trip to Redis. The job id is the URL's
sha256: a URL the queue already knows (waiting, running, completed or failed) is not added again.

Options:
${CONNECTION_USAGE}
  -i, --input FILE      read URLs from FILE, one a line (- for standard input)
  -h, --help            show this help

URLs are read from standard input when none are given and it is not a terminal; blank lines and
lines starting with # are skipped.`,

  parse(argv) {
    const { values, positionals } = usageErrors(() =>
      parseArgs({
        args: [...argv],
        strict: true,
        allowPositionals: true,
        options: { ...CONNECTION_OPTIONS, input: { type: 'string', short: 'i' } },
      }),
    );
    if (values.help) return { help: true, conn: { redis: '' }, urls: [] };
    return { help: false, conn: connectionOf(values), urls: positionals, inputFile: values.input };
  },

  async run(args, io) {
    if (args.urls.length === 0 && args.inputFile === undefined && (io.stdin as { isTTY?: boolean }).isTTY)
      throw new UsageError('enqueue: no URL given (arguments, -i FILE or standard input)');
    const source = new UrlSource(args.urls, args.inputFile, io.stdin);
    try {
      const { submitted, batches } = await enqueue(args.conn, source);
      if (source.error !== undefined) {
        io.stderr.write(
          `rxcurl: cannot read URLs: ${(source.error as Error).message ?? String(source.error)}\n`,
        );
        return 2;
      }
      io.stdout.write(`submitted ${submitted} URLs in ${batches} ${batches === 1 ? 'batch' : 'batches'}\n`);
      return 0;
    } finally {
      source.close();
    }
  },
};
