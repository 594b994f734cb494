/**
 * The subcommands of `rxcurl` for rxcurl/queue. Exact first words: a URL has a scheme, so a URL is
 * never taken for one. Kept apart from the commands themselves, which load bullmq and ioredis.
 */
export const QUEUE_COMMAND_NAMES = ['enqueue', 'worker', 'status', 'results'] as const;

export type QueueCommandName = (typeof QUEUE_COMMAND_NAMES)[number];

/** Whether the first argument names a queue subcommand. */
export function isQueueCommandName(word: string | undefined): word is QueueCommandName {
  return (QUEUE_COMMAND_NAMES as readonly (string | undefined)[]).includes(word);
}
