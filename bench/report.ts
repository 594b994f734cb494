/** From raw runs to figures: per-run metrics, validity, medians, ratios within a run, markdown tables. */
import type { Job, Measurement } from './job.js';
import type { Workload } from './workloads.js';

/** One client process on one workload in one run. */
export interface RunRecord {
  run: number;
  workload: string;
  client: string;
  job: Job;
  /** Why the run does not count, or undefined when it does. */
  invalid?: string;
  measurement?: Measurement;
  metrics?: Metrics;
}

export interface Metrics {
  reqPerSec: number;
  mbPerSec: number;
  cpuUsPerRequest: number;
  peakRssMiB: number;
  /** Memory workloads: (peak RSS − RSS before the transfers) / transfers. */
  rssPerTransferKiB?: number;
  /** Memory workloads: RSS once every transfer finished. */
  afterRssMiB?: number;
}

/** Validates a measurement against the job and derives its metrics; `problems` were found outside it. */
export function assess(
  measurement: Measurement,
  expectedBytes: number,
  job: Job,
  problems: string[],
): Omit<RunRecord, 'run' | 'workload' | 'client' | 'job'> {
  const reasons = [
    measurement.requests !== job.total && `${measurement.requests} of ${job.total} transfers`,
    measurement.failures > 0 && `${measurement.failures} failed or not 200`,
    measurement.bytes !== expectedBytes && `${measurement.bytes} bytes instead of ${expectedBytes}`,
    ...problems,
  ].filter((reason): reason is string => typeof reason === 'string');
  const metrics: Metrics = {
    reqPerSec: measurement.requests / measurement.seconds,
    mbPerSec: measurement.bytes / measurement.seconds / 1e6,
    cpuUsPerRequest: measurement.cpuUs / Math.max(1, measurement.requests),
    peakRssMiB: measurement.peakRssKb / 1024,
  };
  if (measurement.baselineRssKb !== undefined && measurement.afterRssKb !== undefined) {
    metrics.rssPerTransferKiB = (measurement.peakRssKb - measurement.baselineRssKb) / job.total;
    metrics.afterRssMiB = measurement.afterRssKb / 1024;
  }
  return { measurement, metrics, ...(reasons.length > 0 ? { invalid: reasons.join('; ') } : {}) };
}

export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const valid = (records: RunRecord[]): (RunRecord & { metrics: Metrics })[] =>
  records.filter(
    (r): r is RunRecord & { metrics: Metrics } => r.invalid === undefined && r.metrics !== undefined,
  );

/** The median of a metric over the valid runs of one client on one workload. */
export const medianOf = (records: RunRecord[], metric: keyof Metrics): number | undefined =>
  median(valid(records).flatMap((r) => (r.metrics[metric] === undefined ? [] : [r.metrics[metric]])));

/** The median over runs of rxcurl's metric divided by another client's, both taken in the same run. */
export function medianRatio(
  records: RunRecord[],
  workload: string,
  other: string,
  metric: keyof Metrics,
): number | undefined {
  const ratios: number[] = [];
  for (const mine of valid(records.filter((r) => r.workload === workload && r.client === 'rxcurl'))) {
    const theirs = valid(
      records.filter((r) => r.workload === workload && r.client === other && r.run === mine.run),
    )[0];
    const a = mine.metrics[metric];
    const b = theirs?.metrics[metric];
    if (a !== undefined && b !== undefined && b > 0) ratios.push(a / b);
  }
  return median(ratios);
}

const fixed = (value: number | undefined, digits: number): string =>
  value === undefined
    ? '—'
    : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Three significant-ish figures: 54,600 / 2,210 / 18.2 / 1.52. */
const figure = (value: number | undefined): string =>
  value === undefined ? '—' : fixed(value, value >= 100 ? 0 : value >= 10 ? 1 : 2);

/** A markdown table with its columns padded to one width, as formatters write them. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, 3, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** The markdown report: throughput and CPU per client, ratios with the bar, memory of the in-flight workload. */
export function markdown(
  workloads: Workload[],
  clients: string[],
  records: RunRecord[],
  skipped: Map<string, string>,
): string {
  const rowsOf = (w: Workload, client: string): RunRecord[] =>
    records.filter((r) => r.workload === w.id && r.client === client);
  const validRuns = (runs: RunRecord[]): string => `${valid(runs).length}/${runs.length}`;
  const out: string[] = [];

  const main: string[][] = [];
  for (const w of workloads) {
    for (const client of clients) {
      const runs = rowsOf(w, client);
      if (runs.length === 0) continue;
      main.push([
        w.id,
        client,
        figure(medianOf(runs, 'reqPerSec')),
        figure(medianOf(runs, 'mbPerSec')),
        figure(medianOf(runs, 'cpuUsPerRequest')),
        figure(medianOf(runs, 'peakRssMiB')),
        valid(runs).length === runs.length
          ? validRuns(runs)
          : `**invalid ${runs.length - valid(runs).length}**/${runs.length}`,
      ]);
    }
  }
  out.push(table(['workload', 'client', 'req/s', 'MB/s', 'CPU µs/req', 'peak RSS MiB', 'valid runs'], main));
  if (skipped.size > 0) {
    const skips = [...skipped].map(([key, why]) => `${key.replace('/', ' by ')} (${why})`);
    out.push('', `Not run: ${skips.join('; ')}.`);
  }

  if (clients.includes('rxcurl')) {
    /** With a bar: ✓ when the ratio is at least the bar, or at most it for memory. */
    const ratio = (w: Workload, other: string, metric: keyof Metrics, bar?: number): string => {
      const value = medianRatio(records, w.id, other, metric);
      if (value === undefined) return '—';
      if (bar === undefined) return fixed(value, 2);
      const met = metric === 'peakRssMiB' ? value <= bar : value >= bar;
      return `${fixed(value, 2)} ${met ? '✓' : '✗'} (bar ${bar})`;
    };
    const rows = workloads.map((w) => [
      w.id,
      ratio(w, 'c', 'reqPerSec', w.bar?.c),
      ratio(w, 'undici', 'reqPerSec', w.bar?.undici),
      ratio(w, 'c', 'cpuUsPerRequest'),
      ratio(w, 'undici', 'peakRssMiB', 1),
    ]);
    out.push(
      '',
      'rxcurl ÷ another client, within each run, then the median over runs (✓/✗: the bar of DESIGN.md):',
      '',
      table(['workload', 'req/s ÷ C', 'req/s ÷ undici', 'CPU/req ÷ C', 'peak RSS ÷ undici'], rows),
    );
  }

  for (const w of workloads.filter((w) => w.memory)) {
    const rows = clients
      .filter((client) => rowsOf(w, client).length > 0)
      .map((client) => {
        const runs = rowsOf(w, client);
        const baseline = median(valid(runs).flatMap((r) => (r.measurement?.baselineRssKb ?? 0) / 1024));
        return [
          client,
          figure(baseline),
          figure(medianOf(runs, 'peakRssMiB')),
          figure(medianOf(runs, 'rssPerTransferKiB')),
          figure(medianOf(runs, 'afterRssMiB')),
          validRuns(runs),
        ];
      });
    out.push(
      '',
      `${w.id}: ${w.title}:`,
      '',
      table(
        ['client', 'RSS before MiB', 'peak RSS MiB', 'RSS per transfer KiB', 'RSS after MiB', 'valid runs'],
        rows,
      ),
    );
  }
  return out.join('\n');
}
