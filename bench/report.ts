/** From raw runs to figures: per-run metrics, validity, medians, ratios within a run, markdown tables. */
import type { Job, Measurement } from './job.js';
import type { Bar, Workload } from './workloads.js';

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
  /** Memory workloads: RSS once the client was closed. */
  closedRssMiB?: number;
  /**
   * Memory workloads: (RSS after close − RSS before) ÷ (peak RSS − RSS before), V8's committed but
   * unused heap taken off both RSS figures: 0 when all was released.
   */
  keptAfterClose?: number;
  /** The client process from spawn to exit, as the orchestrator saw it. */
  wallMs: number;
}

/**
 * Validates a measurement against the job and derives its metrics; `problems` were found outside
 * it, `wallSeconds` is the process's life from spawn to exit.
 */
export function assess(
  measurement: Measurement,
  expectedBytes: number,
  job: Job,
  problems: string[],
  wallSeconds: number,
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
    wallMs: wallSeconds * 1000,
  };
  const { baselineRssKb, afterRssKb, closedRssKb, peakRssKb } = measurement;
  if (baselineRssKb !== undefined && afterRssKb !== undefined) {
    metrics.rssPerTransferKiB = (peakRssKb - baselineRssKb) / job.total;
    metrics.afterRssMiB = afterRssKb / 1024;
  }
  if (baselineRssKb !== undefined && closedRssKb !== undefined) {
    metrics.closedRssMiB = closedRssKb / 1024;
    // Heap V8 keeps committed but unused is not counted as kept, before or after.
    const kept =
      closedRssKb -
      (measurement.closedHeapFreeKb ?? 0) -
      (baselineRssKb - (measurement.baselineHeapFreeKb ?? 0));
    metrics.keptAfterClose = Math.max(0, kept) / Math.max(1, peakRssKb - baselineRssKb);
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

/** The median over runs of one client's metric divided by another client's, both taken in the same run. */
export function medianRatio(
  records: RunRecord[],
  workload: string,
  client: string,
  other: string,
  metric: keyof Metrics,
): number | undefined {
  const ratios: number[] = [];
  for (const mine of valid(records.filter((r) => r.workload === workload && r.client === client))) {
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

/**
 * The markdown report: throughput and CPU per client, rxcurl's bar, rxcurl's ratios to the others,
 * memory of the in-flight workload, wall time of the cold one.
 */
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
  const invalid = new Map<string, string>();
  for (const r of records) {
    const key = `${r.workload} by ${r.client}`;
    if (r.invalid !== undefined && !invalid.has(key))
      invalid.set(key, r.invalid.replace(/\s+/g, ' ').slice(0, 200));
  }
  if (invalid.size > 0) {
    const reasons = [...invalid].map(([key, why]) => `${key} (${why})`);
    out.push('', `Invalid runs, the first reason of each: ${reasons.join('; ')}.`);
  }

  const bars = workloads.flatMap((w) => w.bar.map((bar) => ({ w, bar })));
  const held = bars.filter(({ bar }) => clients.includes(bar.client));
  if (held.length > 0) {
    const rows = held.map(({ w, bar }) => {
      const value = barValue(records, w, bar);
      const atMost = AT_MOST.has(bar.metric);
      const met = value === undefined ? '—' : (atMost ? value <= bar.ratio : value >= bar.ratio) ? '✓' : '✗';
      return [
        w.id,
        bar.client,
        bar.versus === undefined ? METRIC_NAMES[bar.metric] : `${METRIC_NAMES[bar.metric]} ÷ ${bar.versus}`,
        fixed(value, 2),
        `${atMost ? '≤' : '≥'} ${bar.ratio}`,
        met,
      ];
    });
    out.push(
      '',
      "rxcurl's bar: ratios within each run, then their median over runs (— when a side has no valid run " +
        'or was not run; kept after close: (RSS after close − RSS before) ÷ (peak − before), without the ' +
        'heap V8 has committed but does not use):',
      '',
      table(['workload', 'client', 'measure', 'value', 'bar', 'met'], rows),
    );
  }

  const mine = ['rxcurl', 'rxcurl-queue', 'rxcurl-all'].filter((client) => clients.includes(client));
  const others = ['floor', 'node-libcurl', 'undici', 'c'].filter((client) => clients.includes(client));
  if (mine.length > 0 && others.length > 0) {
    const rows = workloads.flatMap((w) =>
      mine
        .filter((client) => rowsOf(w, client).length > 0)
        .map((client) => [
          w.id,
          client,
          ...others.map((other) =>
            fixed(medianRatio(records, w.id, client, other, w.cold ? 'wallMs' : 'reqPerSec'), 2),
          ),
          ...others.map((other) => fixed(medianRatio(records, w.id, client, other, 'cpuUsPerRequest'), 2)),
        ]),
    );
    out.push(
      '',
      'rxcurl ÷ the others, within each run, then the median over runs (speed: req/s, or wall time on ' +
        'cold workloads, where lower is better; CPU: CPU time per transfer):',
      '',
      table(
        [
          'workload',
          'client',
          ...others.map((other) => `speed ÷ ${other}`),
          ...others.map((other) => `CPU ÷ ${other}`),
        ],
        rows,
      ),
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
          figure(medianOf(runs, 'closedRssMiB')),
          fixed(medianOf(runs, 'keptAfterClose'), 2),
          validRuns(runs),
        ];
      });
    out.push(
      '',
      `${w.id}: ${w.title}:`,
      '',
      table(
        [
          'client',
          'RSS before MiB',
          'peak RSS MiB',
          'RSS per transfer KiB',
          'RSS after MiB',
          'RSS after close MiB',
          'kept after close',
          'valid runs',
        ],
        rows,
      ),
    );
  }

  for (const w of workloads.filter((w) => w.cold)) {
    const rows = clients
      .filter((client) => rowsOf(w, client).length > 0)
      .map((client) => {
        const runs = rowsOf(w, client);
        return [
          client,
          figure(medianOf(runs, 'wallMs')),
          figure(medianOf(runs, 'reqPerSec')),
          figure(medianOf(runs, 'peakRssMiB')),
          validRuns(runs),
        ];
      });
    out.push(
      '',
      `${w.id}: ${w.title} (lower is better; req/s: the transfers alone, as the process timed them):`,
      '',
      table(['client', 'wall ms', 'req/s', 'peak RSS MiB', 'valid runs'], rows),
    );
  }
  return out.join('\n');
}

/** Metrics where less is better. */
const AT_MOST = new Set<Bar['metric']>(['rssPerTransferKiB', 'keptAfterClose', 'wallMs']);

const METRIC_NAMES: Record<Bar['metric'], string> = {
  reqPerSec: 'req/s',
  mbPerSec: 'MB/s',
  rssPerTransferKiB: 'RSS/transfer',
  keptAfterClose: 'kept after close',
  wallMs: 'wall time',
};

/** The figure a bar judges: a median ratio to another client, or the median of the metric itself. */
const barValue = (records: RunRecord[], w: Workload, bar: Bar): number | undefined =>
  bar.versus === undefined
    ? medianOf(
        records.filter((r) => r.workload === w.id && r.client === bar.client),
        bar.metric,
      )
    : medianRatio(records, w.id, bar.client, bar.versus, bar.metric);
