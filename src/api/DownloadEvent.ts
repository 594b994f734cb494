import type { TransferResult } from '../core/types.js';

/**
 * The events of `download()`: `progress` (with `progress: true`), then one `done` once the file is in place.
 *
 * @example
 * ```ts
 * curl.download({ url, progress: true }, 'big.iso').subscribe((e: DownloadEvent) => {
 *   if (e.type === 'progress') console.log(`${e.downloaded} / ${e.total}`);
 *   else console.log(`${e.bytes} bytes in ${e.path}`);
 * });
 * ```
 */
export type DownloadEvent =
  | {
      /** Bytes so far. */
      type: 'progress';
      /** Bytes in the file so far (a resumed file counts what it had). */
      downloaded: number;
      /** The expected size of the file; 0 when unknown. */
      total: number;
    }
  | {
      /** The file is complete, in place under its name. */
      type: 'done';
      /** Where the file is. */
      path: string;
      /** Its size. */
      bytes: number;
      /** What libcurl reported for the last transfer. */
      result: TransferResult;
      /** `ifChanged`: the server said the file at `path` is current (304); it was left as it was, and `bytes` is 0. */
      notModified?: boolean;
    };
