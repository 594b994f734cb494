import { UsageError } from '../args.js';
import type { CliIo } from '../run.js';
import { enqueueCommand } from './enqueueCommand.js';
import type { QueueCommand } from './QueueCommand.js';
import type { QueueCommandName } from './queueCommandNames.js';
import { resultsCommand } from './resultsCommand.js';
import { statusCommand } from './statusCommand.js';
import { workerCommand } from './workerCommand.js';

/**
 * Runs `rxcurl <name> argv…`; resolves to the exit status. A usage error prints its message and
 * the subcommand's usage, and is 2. Loaded by main() only for a subcommand: it loads bullmq.
 */
export function runQueueCommand(name: QueueCommandName, argv: readonly string[], io: CliIo): Promise<number> {
  switch (name) {
    case 'enqueue':
      return runCommand(name, enqueueCommand, argv, io);
    case 'worker':
      return runCommand(name, workerCommand, argv, io);
    case 'status':
      return runCommand(name, statusCommand, argv, io);
    case 'results':
      return runCommand(name, resultsCommand, argv, io);
  }
}

async function runCommand<A extends { help: boolean }>(
  name: QueueCommandName,
  command: QueueCommand<A>,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  try {
    const args = command.parse(argv);
    if (args.help) {
      io.stdout.write(`${command.usage}\n`);
      return 0;
    }
    return await command.run(args, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`rxcurl ${name}: ${error.message}\n\n${command.usage}\n`);
    return 2;
  }
}
