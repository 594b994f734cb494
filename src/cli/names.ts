import { extname } from 'node:path';

/**
 * The file name for a URL: the last segment of its path, percent-decoded, with anything a file
 * name cannot hold replaced by `_`; `index.html` when the path ends with `/`. The query and the
 * fragment are ignored. Never a path: no `/`, and never `.`, `..` or a hidden `.name`.
 */
export function fileNameFromUrl(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url.replace(/[?#].*$/s, '');
  }
  let segment = path.slice(path.lastIndexOf('/') + 1);
  try {
    segment = decodeURIComponent(segment);
  } catch {
    // Not valid percent-encoding: keep it as it is.
  }
  // Control characters, separators, and what Windows forbids in names.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  const name = segment.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_').replace(/^\.+/, '');
  return name === '' ? 'index.html' : name.slice(0, 200);
}

/** Hands out file names, each once: `a.txt`, then `a-1.txt`, `a-2.txt`… for later URLs with the same name. */
export class FileNamer {
  private readonly taken = new Set<string>();

  /** The name for `url`: `fileNameFromUrl(url)`, with a numeric suffix if it was already handed out. */
  next(url: string): string {
    const wanted = fileNameFromUrl(url);
    const ext = extname(wanted);
    const stem = wanted.slice(0, wanted.length - ext.length);
    let name = wanted;
    for (let n = 1; this.taken.has(name.toLowerCase()); n++) name = `${stem}-${n}${ext}`;
    this.taken.add(name.toLowerCase());
    return name;
  }
}
