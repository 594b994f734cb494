/**
 * Options of `download()`. `ifChanged`: when the file exists, download it only if the server has a
 * newer one — If-Modified-Since from the file's mtime, which every download sets to the server's
 * Last-Modified (as `curl -R -z FILE` does). A 304 leaves the file, its mtime included, as it was,
 * and ends with `done` and `notModified: true`.
 *
 * @example
 * ```ts
 * const done = await lastValueFrom(curl.download(url, 'data.csv', { ifChanged: true }));
 * console.log(done.type === 'done' && done.notModified ? 'up to date' : 'updated');
 * ```
 */
export interface DownloadOptions {
  /** Conditional on the existing file's mtime (If-Modified-Since); a partial file does not count. */
  ifChanged?: boolean;
}
