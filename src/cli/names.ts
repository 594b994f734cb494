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

/** The table's first size, in slots; it doubles when it is 3/4 full. */
const FIRST_SLOTS = 1024;

/**
 * Hands out file names, each once: `a.txt`, then `a-1.txt`, `a-2.txt`… for later URLs with the same
 * name (case-insensitively). So that a list of millions of URLs is named in little memory, it
 * keeps no names, only a 64-bit fingerprint of each name handed out and the next suffix to try for
 * it, in an open-addressing table of typed arrays: 12 bytes a slot, 16 to 32 bytes a name (the
 * strings it replaces took 53 bytes a name for `123456.txt`, more for longer ones; and with the
 * next suffix kept, a run of one name is no longer quadratic). Two names with the same
 * fingerprint count as one, so the later one gets a suffix it did not need: names stay
 * deterministic for a given list (a rerun with `--resume` finds its partial files), at a chance of
 * about n / 2^64 per name among n.
 */
export class FileNamer {
  /** Two 32-bit halves of each slot's fingerprint. */
  private hashes = new Uint32Array(2 * FIRST_SLOTS);
  /** Per slot: 0 when empty, else the next suffix to try when that name is wanted again. */
  private suffixes = new Uint32Array(FIRST_SLOTS);
  private size = 0;

  /** The name for `url`: `fileNameFromUrl(url)`, with a numeric suffix if it was already handed out. */
  next(url: string): string {
    const wanted = fileNameFromUrl(url);
    const slot = this.slotOf(wanted.toLowerCase());
    if (this.suffixes[slot] === 0) {
      this.take(slot);
      return wanted;
    }
    const ext = extname(wanted);
    const stem = wanted.slice(0, wanted.length - ext.length);
    // Suffixes below the one kept were all taken when it was set, and names are never given back.
    for (let n = this.suffixes[slot]; ; n++) {
      const name = `${stem}-${n}${ext}`;
      const other = this.slotOf(name.toLowerCase());
      if (this.suffixes[other] !== 0) continue;
      this.take(other);
      // Taking a name may have grown the table and moved every slot.
      this.suffixes[this.slotOf(wanted.toLowerCase())] = n + 1;
      return name;
    }
  }

  private take(slot: number): void {
    this.suffixes[slot] = 1;
    if (++this.size * 4 > this.suffixes.length * 3) this.grow();
  }

  /**
   * The slot of `name`: where its fingerprint is, or the empty one where it would go, with the
   * fingerprint written in, so that `take` only has to mark it.
   */
  private slotOf(name: string): number {
    return this.find(fingerprintHigh(name), fingerprintLow(name));
  }

  private find(high: number, low: number): number {
    const mask = this.suffixes.length - 1;
    let slot = (low ^ high) & mask;
    while (
      this.suffixes[slot] !== 0 &&
      (this.hashes[2 * slot] !== high || this.hashes[2 * slot + 1] !== low)
    ) {
      slot = (slot + 1) & mask;
    }
    this.hashes[2 * slot] = high;
    this.hashes[2 * slot + 1] = low;
    return slot;
  }

  private grow(): void {
    const { hashes, suffixes } = this;
    this.hashes = new Uint32Array(2 * hashes.length);
    this.suffixes = new Uint32Array(2 * suffixes.length);
    for (let slot = 0; slot < suffixes.length; slot++) {
      if (suffixes[slot] === 0) continue;
      this.suffixes[this.find(hashes[2 * slot], hashes[2 * slot + 1])] = suffixes[slot];
    }
  }
}

/** FNV-1a over the UTF-16 code units. */
function fingerprintHigh(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A multiply-xorshift hash with a different seed and final mix, independent enough of FNV-1a. */
function fingerprintLow(s: string): number {
  let h = 0x9747b28c ^ s.length;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
