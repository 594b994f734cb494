import { type Job, Queue } from 'bullmq';
import type { JobData } from '../../queue/enqueue.js';
import type { QueueConnection } from '../../queue/index.js';
import { KEY_PREFIX, openRedis, queueName } from '../../queue/QueueConnection.js';
import { CONNECTION_USAGE, connectionArgs, type QueueCommand } from './QueueCommand.js';

interface StatusArgs {
  help: boolean;
  conn: QueueConnection;
}

/** Failed jobs read per round trip, and reasons shown. */
const PAGE = 1000;
const TOP_REASONS = 10;

/** A failed job's reason with its own URL taken out, so that "HTTP 404 from <url>" groups. */
function reasonOf(job: Job<JobData>): string {
  const reason = job.failedReason || 'unknown';
  return job.data?.url ? reason.replaceAll(job.data.url, '<url>') : reason;
}

/** `rxcurl status`: the queue's jobs by state, and its most frequent failure reasons. */
export const statusCommand: QueueCommand<StatusArgs> = {
  usage: `Usage: rxcurl status --redis URL [--queue NAME]

Prints the queue's jobs by state (waiting includes prioritized jobs; delayed are waiting for a
retry's backoff) and the ${TOP_REASONS} most frequent reasons of failed jobs.

Options:
${CONNECTION_USAGE}
  -h, --help            show this help`,

  parse: connectionArgs,

  async run({ conn }, io) {
    const redis = openRedis(conn);
    const queue = new Queue<JobData>(queueName(conn), { connection: redis, prefix: KEY_PREFIX });
    try {
      const c = await queue.getJobCounts(
        'waiting',
        'prioritized',
        'active',
        'delayed',
        'completed',
        'failed',
      );
      const rows: [string, number][] = [
        ['waiting', (c.waiting ?? 0) + (c.prioritized ?? 0)],
        ['active', c.active ?? 0],
        ['delayed', c.delayed ?? 0],
        ['completed', c.completed ?? 0],
        ['failed', c.failed ?? 0],
      ];
      const width = Math.max(...rows.map(([, n]) => String(n).length));
      for (const [state, n] of rows) io.stdout.write(`${state.padEnd(10)}${String(n).padStart(width)}\n`);
      const reasons = new Map<string, number>();
      for (let start = 0; start < (c.failed ?? 0); start += PAGE)
        for (const job of await queue.getFailed(start, start + PAGE - 1)) {
          const reason = reasonOf(job);
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
      if (reasons.size > 0) {
        io.stdout.write('top failure reasons:\n');
        const top = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, TOP_REASONS);
        const w = String(top[0][1]).length;
        for (const [reason, n] of top) io.stdout.write(`  ${String(n).padStart(w)}  ${reason}\n`);
      }
      return 0;
    } finally {
      await queue.close();
      redis.disconnect();
    }
  },
};
