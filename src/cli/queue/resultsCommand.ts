import { lastValueFrom, takeWhile, tap } from 'rxjs';
import { type QueueConnection, queueResults } from '../../queue/index.js';
import { CONNECTION_USAGE, connectionArgs, type QueueCommand } from './QueueCommand.js';

interface ResultsArgs {
  help: boolean;
  conn: QueueConnection;
}

/** `rxcurl results`: every job's durable record, one JSON object a line. */
export const resultsCommand: QueueCommand<ResultsArgs> = {
  usage: `Usage: rxcurl results --redis URL [--queue NAME]

Prints every job's result record as one JSON object a line (NDJSON):
  {"id","url","ok","path","bytes","sha256","status","attempts","error"}
A record is written before its job completes, and when a job fails for good. Read while workers
run, a record may appear twice (Redis's HSCAN); the id tells.

Options:
${CONNECTION_USAGE}
  -h, --help            show this help`,

  parse: connectionArgs,

  async run({ conn }, io) {
    // Standard output to a file or a pipe is synchronous on Linux: no record waits in memory. A
    // reader that goes away (rxcurl results | head) ends the scan; the listener stays, for the
    // write errors that arrive after the scan ended.
    let gone = false;
    io.stdout.on('error', () => {
      gone = true;
    });
    await lastValueFrom(
      queueResults(conn).pipe(
        takeWhile(() => !gone),
        tap((record) => io.stdout.write(`${JSON.stringify(record)}\n`)),
      ),
      { defaultValue: undefined },
    );
    return 0;
  },
};
