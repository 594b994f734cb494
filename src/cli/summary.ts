import type { Outcome } from './outcome.js';
import { formatBytes, formatDuration, formatRate } from './units.js';

/** The nearest-rank percentile `p` (0–100) of `values`; undefined when there are none. */
export function percentile(values: ArrayLike<number>, p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/**
 * Counts outcomes as they come, and renders the table printed at the end. It keeps counts, not
 * outcomes, so a list of millions of URLs runs in flat memory: only the total time of each
 * successful transfer, for its percentiles (8 bytes a transfer).
 */
export class Summary {
  private readonly counts = { ok: 0, failed: 0, cancelled: 0 };
  private readonly reasons = new Map<string, number>();
  private times = new Float64Array(1024);
  private timed = 0;
  private okBytes = 0;
  private retries = 0;
  /** Of the ok ones, files left as they were (`--update`). */
  private notModified = 0;

  add(outcome: Outcome): void {
    this.counts[outcome.status]++;
    if (outcome.notModified) this.notModified++;
    this.retries += Math.max(0, outcome.attempts - 1);
    if (outcome.status === 'failed') {
      this.reasons.set(outcome.reason!, (this.reasons.get(outcome.reason!) ?? 0) + 1);
    }
    if (outcome.status !== 'ok') return;
    this.okBytes += outcome.bytes;
    if (this.timed === this.times.length) {
      const more = new Float64Array(2 * this.timed);
      more.set(this.times);
      this.times = more;
    }
    this.times[this.timed++] = outcome.totalMs ?? 0;
  }

  count(status?: Outcome['status']): number {
    const { ok, failed, cancelled } = this.counts;
    return status ? this.counts[status] : ok + failed + cancelled;
  }

  /** Bytes written by successful transfers. */
  bytes(): number {
    return this.okBytes;
  }

  /** Failures by reason (`CURLE_…` or `HTTP <status>`), most frequent first. */
  failuresByReason(): [string, number][] {
    return [...this.reasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }

  /**
   * The table: transfers, retries, bytes, failures by reason, p50/p95 of libcurl's total time of
   * the successful transfers, their mean rate (their bytes over their summed times) and the overall
   * throughput over `elapsedMs` of wall-clock time.
   */
  render(elapsedMs: number): string {
    const times = this.times.subarray(0, this.timed);
    const bytes = this.bytes();
    const busyMs = times.reduce((a, b) => a + b, 0);
    const retries = this.retries;
    const notModified = this.notModified;
    const counts = [`${this.count('ok') - notModified} ok`, `${this.count('failed')} failed`];
    if (notModified > 0) counts.splice(1, 0, `${notModified} not modified`);
    if (this.count('cancelled') > 0) counts.push(`${this.count('cancelled')} cancelled`);
    const p50 = percentile(times, 50);
    const p95 = percentile(times, 95);
    const rows: [string, string][] = [
      ['transfers', `${this.count()} (${counts.join(', ')})`],
      ['retries', String(retries)],
      ['bytes', `${bytes} (${formatBytes(bytes)})`],
    ];
    const failures = this.failuresByReason();
    if (failures.length === 0) rows.push(['failures', 'none']);
    const width = Math.max(0, ...failures.map(([reason]) => reason.length));
    failures.forEach(([reason, n], i) => {
      rows.push([i === 0 ? 'failures' : '', `${reason.padEnd(width)}  ${n}`]);
    });
    rows.push(
      [
        'total time',
        p50 === undefined ? '-' : `p50 ${formatDuration(p50)}, p95 ${formatDuration(p95 ?? p50)}`,
      ],
      [
        'mean rate',
        `${busyMs > 0 ? formatRate((bytes * 1000) / busyMs) : '-'} per transfer, ${
          elapsedMs > 0 ? formatRate((bytes * 1000) / elapsedMs) : '-'
        } overall in ${formatDuration(elapsedMs)}`,
      ],
    );
    const left = Math.max(...rows.map(([k]) => k.length));
    return ['summary', ...rows.map(([k, v]) => `  ${k.padEnd(left)}  ${v}`)].join('\n');
  }
}
