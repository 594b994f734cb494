import type { Writable } from 'node:stream';
import cliProgress, { type Options, type Params, type SingleBar } from 'cli-progress';
import { type Outcome, outcomeLine } from './outcome.js';
import { formatBytes, formatEta, formatRate } from './units.js';

/** What the CLI tells its display while it runs. */
export interface Display {
  /** A URL arrived: one more to do. */
  queued(): void;
  /** A transfer of `name` started (its first attempt). */
  started(id: number, name: string): void;
  /** Bytes so far of transfer `id`, and its size when known (0 when not). */
  progress(id: number, downloaded: number, total: number): void;
  /** Transfer `id` is over. */
  finished(id: number, outcome: Outcome): void;
  /** Everything is over: restore the terminal. */
  stop(): void;
}

/** No bars, no completion lines: only failures, on `errors` (`-q`). */
export class QuietDisplay implements Display {
  constructor(private readonly errors: Writable) {}
  queued(): void {}
  started(): void {}
  progress(): void {}
  finished(_id: number, outcome: Outcome): void {
    if (outcome.status === 'failed') this.errors.write(`${outcomeLine(outcome)}\n`);
  }
  stop(): void {}
}

/** One line per finished transfer, for logs and pipes. */
export class LineDisplay implements Display {
  constructor(private readonly out: Writable) {}
  queued(): void {}
  started(): void {}
  progress(): void {}
  finished(_id: number, outcome: Outcome): void {
    this.out.write(`${outcomeLine(outcome)}\n`);
  }
  stop(): void {}
}

interface TransferPayload {
  kind: 'transfer';
  nameWidth: number;
  name: string;
  downloaded: number;
  total: number;
  startedAt: number;
}

interface TotalsPayload {
  kind: 'totals';
  nameWidth: number;
  done: number;
  queued: number;
  active: number;
  failed: number;
  bytes: number;
  startedAt: number;
}

const BAR_SIZE = 20;
/** Columns a transfer's line needs besides its name, at most: bar, percentage, sizes, rate, ETA. */
const REST_WIDTH = 69;

/** The width of the name column on a terminal `columns` wide: what the rest of the line leaves, 10 to 32. */
export function nameWidth(columns: number): number {
  return Math.max(10, Math.min(32, columns - REST_WIDTH));
}

function column(name: string, width: number): string {
  return name.length > width ? `${name.slice(0, width - 1)}…` : name.padEnd(width);
}

function renderLine(options: Options, _params: Params, payload: TransferPayload | TotalsPayload): string {
  const elapsed = Math.max(1, Date.now() - payload.startedAt);
  if (payload.kind === 'totals') {
    const rate = (payload.bytes * 1000) / elapsed;
    const failed = payload.failed > 0 ? ` · ${payload.failed} failed` : '';
    return `${column('total', payload.nameWidth)} ${payload.done}/${payload.queued} done · ${payload.active} active${failed} · ${formatBytes(payload.bytes)} · ${formatRate(rate)}`;
  }
  const { downloaded, total } = payload;
  const rate = (downloaded * 1000) / elapsed;
  const known = total > 0;
  const bar = known
    ? cliProgress.Format.BarFormat(Math.min(1, downloaded / total), options)
    : '·'.repeat(BAR_SIZE);
  const size = known ? `${formatBytes(downloaded)}/${formatBytes(total)}` : formatBytes(downloaded);
  const eta = known && rate > 0 ? formatEta(((total - downloaded) * 1000) / rate) : '-';
  const percent = known ? `${String(Math.floor((downloaded / total) * 100)).padStart(3)}% ` : '';
  return `${column(payload.name, payload.nameWidth)} ${bar} ${percent}${size} · ${formatRate(rate)} · ETA ${eta}`;
}

/**
 * The live display on a terminal: a cli-progress MultiBar with a totals line and one bar per
 * active transfer (name, bytes, rate, ETA); finished transfers are logged above the bars.
 */
export class BarsDisplay implements Display {
  private readonly multibar: cliProgress.MultiBar;
  private readonly totals: SingleBar;
  private readonly totalsPayload: TotalsPayload;
  private readonly bars = new Map<number, { bar: SingleBar; payload: TransferPayload }>();
  private readonly nameWidth: number;

  constructor(stream: NodeJS.WritableStream & { columns?: number }) {
    this.nameWidth = nameWidth(stream.columns || 80);
    this.multibar = new cliProgress.MultiBar({
      stream,
      format: renderLine as Options['format'],
      barsize: BAR_SIZE,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      fps: 10,
    });
    this.totalsPayload = {
      kind: 'totals',
      nameWidth: this.nameWidth,
      done: 0,
      queued: 0,
      active: 0,
      failed: 0,
      bytes: 0,
      startedAt: Date.now(),
    };
    this.totals = this.multibar.create(1, 0, this.totalsPayload);
  }

  queued(): void {
    this.totalsPayload.queued++;
    this.totals.update(this.totalsPayload);
  }

  started(id: number, name: string): void {
    const payload: TransferPayload = {
      kind: 'transfer',
      nameWidth: this.nameWidth,
      name,
      downloaded: 0,
      total: 0,
      startedAt: Date.now(),
    };
    this.bars.set(id, { bar: this.multibar.create(1, 0, payload), payload });
    this.totalsPayload.active++;
    this.totals.update(this.totalsPayload);
  }

  progress(id: number, downloaded: number, total: number): void {
    const entry = this.bars.get(id);
    if (!entry) return;
    this.totalsPayload.bytes += Math.max(0, downloaded - entry.payload.downloaded);
    entry.payload.downloaded = downloaded;
    entry.payload.total = total;
    entry.bar.update(entry.payload);
  }

  finished(id: number, outcome: Outcome): void {
    const entry = this.bars.get(id);
    this.bars.delete(id);
    const totals = this.totalsPayload;
    totals.done++;
    if (outcome.status === 'failed') totals.failed++;
    if (entry) {
      totals.active--;
      // Bytes that arrived after the last progress event, or fewer if the transfer failed.
      if (outcome.status === 'ok') totals.bytes += Math.max(0, outcome.bytes - entry.payload.downloaded);
    }
    this.totals.update(totals);
    this.multibar.log(`${outcomeLine(outcome)}\n`);
    if (entry) this.multibar.remove(entry.bar);
    else this.multibar.update();
  }

  stop(): void {
    this.multibar.stop();
  }
}
