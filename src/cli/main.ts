#!/usr/bin/env node
/**
 * The `rxcurl` command: parallel downloads with live progress. See `rxcurl --help` and the README,
 * section "Command line".
 */
import { Curl, RXCURL_VERSION } from '../index.js';
import { type CliOptions, parseCliArgs, USAGE, UsageError } from './args.js';
import { isQueueCommandName } from './queue/queueCommandNames.js';
import { run } from './run.js';

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (isQueueCommandName(first)) {
    // Only the subcommands load rxcurl/queue, and with it bullmq and ioredis (optional peers).
    const { runQueueCommand } = await import('./queue/runQueueCommand.js').catch((error: unknown) => {
      const missing = /Cannot find (package|module) '(bullmq|ioredis)'/.exec(String(error))?.[2];
      if (missing === undefined) throw error;
      throw new Error(`rxcurl ${first} needs the packages bullmq and ioredis: npm install bullmq ioredis`);
    });
    return runQueueCommand(first, rest, process);
  }
  let options: CliOptions;
  try {
    options = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`rxcurl: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.version) {
    const v = Curl.version;
    process.stdout.write(`rxcurl ${RXCURL_VERSION} libcurl ${v.libcurl}${v.ssl ? ` ${v.ssl}` : ''}\n`);
    return 0;
  }
  if (options.urls.length === 0 && options.inputFile === undefined && process.stdin.isTTY) {
    process.stderr.write(`rxcurl: no URL given\n\n${USAGE}\n`);
    return 2;
  }

  // The first Ctrl-C (or SIGTERM) cancels every transfer and lets run() print the summary; a
  // second one quits at once. The exit status is 128 + the signal's number: 130, or 143.
  const cancel = new AbortController();
  let exitStatus = 130;
  const onSignal = (signal: NodeJS.Signals) => {
    const status = signal === 'SIGTERM' ? 143 : 130;
    if (cancel.signal.aborted) process.exit(status);
    exitStatus = status;
    cancel.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const code = await run(options, process, cancel.signal);
    return cancel.signal.aborted ? exitStatus : code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`rxcurl: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
