/**
 * The durable record of one job, in Redis (see `queueResults`) and on `worker.results$`: written
 * before the job completes, and when it fails for good.
 *
 * @example
 * ```ts
 * worker.results$.subscribe((r: QueueResult) => console.log(r.ok ? `${r.path} ${r.sha256}` : `${r.url}: ${r.error}`));
 * ```
 */
export interface QueueResult {
  /** The job id: the sha256 of the URL. */
  id: string;
  /** The URL of the job's request. */
  url: string;
  /** Whether the file was downloaded. */
  ok: boolean;
  /** Where the file is, when ok. */
  path?: string;
  /** The file's size; 0 when not ok. */
  bytes: number;
  /** The file's sha256 in hex, when ok. */
  sha256?: string;
  /** The last HTTP status; 0 when there was none (a connection error, an invalid URL). */
  status: number;
  /** The attempt that wrote the record, from 1. */
  attempts: number;
  /** Why it failed, when not ok. */
  error?: string;
}
