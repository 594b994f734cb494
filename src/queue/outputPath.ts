import { join } from 'node:path';

/**
 * Where a job's file goes: `<dir>/<first two hex digits of the id>/<id>`. Derived from the id only,
 * so a job that runs twice (on two workers, or after a crash) writes the same file, and 256
 * subfolders keep any one folder small for millions of files. The URL is in the result record.
 *
 * @example
 * ```ts
 * outputPath('/data', jobId(url)); // '/data/3f/3f9a…'
 * ```
 */
export function outputPath(dir: string, id: string): string {
  return join(dir, id.slice(0, 2), id);
}
