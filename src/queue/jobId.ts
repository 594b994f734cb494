import { createHash } from 'node:crypto';

/**
 * The job id of a URL: its sha256 in hex. The same URL always gets the same job, so BullMQ adds it
 * once however often it is enqueued, and its output path and result record never change.
 *
 * @example
 * ```ts
 * const id = jobId('https://example.com/a.iso'); // 64 hex digits
 * ```
 */
export function jobId(url: string): string {
  return createHash('sha256').update(url).digest('hex');
}
