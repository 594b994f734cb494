import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { QueueConnection } from '../../queue/index.js';
import { UsageError } from '../args.js';
import type { CliIo } from '../run.js';

/** One subcommand: its usage, its parser (throws UsageError), and what it does (the exit status). */
export interface QueueCommand<A extends { help: boolean }> {
  usage: string;
  parse(argv: readonly string[]): A;
  run(args: A, io: CliIo): Promise<number>;
}

/** The options every subcommand takes. */
export const CONNECTION_OPTIONS = {
  redis: { type: 'string' },
  queue: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** The usage lines of the options every subcommand takes (but --help). */
export const CONNECTION_USAGE = `      --redis URL       the Redis server, redis://[user:password@]host:port[/db] (required)
      --queue NAME      the queue (default rxcurl)`;

/** Runs a parser (Node's `util.parseArgs`), its errors (an unknown flag, a missing value) as UsageError. */
export function usageErrors<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The queue named by `--redis` (required) and `--queue`. */
export function connectionOf(values: { redis?: string; queue?: string }): QueueConnection {
  if (values.redis === undefined || values.redis === '')
    throw new UsageError('--redis URL is required (e.g. --redis redis://127.0.0.1:6379)');
  if (values.queue === '') throw new UsageError('--queue needs a name');
  return { redis: values.redis, ...(values.queue !== undefined && { queue: values.queue }) };
}

/** The arguments of a subcommand that takes the connection options only. */
export function connectionArgs(argv: readonly string[]): { help: boolean; conn: QueueConnection } {
  const { values } = usageErrors(() =>
    parseArgs({ args: [...argv], strict: true, options: CONNECTION_OPTIONS }),
  );
  if (values.help) return { help: true, conn: { redis: '' } };
  return { help: false, conn: connectionOf(values) };
}
