import type { Outcome } from './outcome.js';
import { formatBytes, formatDuration, formatRate } from './units.js';

/** The nearest-rank percentile `p` (0–100) of `values`; undefined when there are none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Counts outcomes as they come, and renders the table printed at the end. */
export class Summary {
  private readonly outcomes: Outcome[] = [];

  add(outcome: Outcome): void {
    this.outcomes.push(outcome);
  }

  count(status?: Outcome['status']): number {
    return status ? this.outcomes.filter((o) => o.status === status).length : this.outcomes.length;
  }

  /** Bytes written by successful transfers. */
  bytes(): number {
    return this.outcomes.reduce((sum, o) => sum + (o.status === 'ok' ? o.bytes : 0), 0);
  }

  /** Failures by reason (`CURLE_…` or `HTTP <status>`), most frequent first. */
  failuresByReason(): [string, number][] {
    const counts = new Map<string, number>();
    for (const o of this.outcomes) {
      if (o.status === 'failed') counts.set(o.reason!, (counts.get(o.reason!) ?? 0) + 1);
    }
    return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }

  /**
   * The table: transfers, retries, bytes, failures by reason, p50/p95 of libcurl's total time of
   * the successful transfers, their mean rate (their bytes over their summed times) and the overall
   * throughput over `elapsedMs` of wall-clock time.
   */
  render(elapsedMs: number): string {
    const ok = this.outcomes.filter((o) => o.status === 'ok');
    const times = ok.map((o) => o.totalMs ?? 0);
    const bytes = this.bytes();
    const busyMs = times.reduce((a, b) => a + b, 0);
    const retries = this.outcomes.reduce((sum, o) => sum + Math.max(0, o.attempts - 1), 0);
    const notModified = ok.filter((o) => o.notModified).length;
    const counts = [`${ok.length - notModified} ok`, `${this.count('failed')} failed`];
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
