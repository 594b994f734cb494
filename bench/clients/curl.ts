/**
 * curl's command line: `curl --parallel --parallel-max C` over a config file of `url`/`output`
 * pairs, measured from outside by bench/c/rusage.c. `--write-out` reports each transfer's status, body
 * size and HTTP version; the last line is rusage's JSON.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Client, lastJsonLine } from './client.js';

/** curl refuses a larger --parallel-max. */
const PARALLEL_MAX = 300;

interface Rusage {
  cpuUs: number;
  peakRssKb: number;
  seconds: number;
  exitCode: number;
}

export const curl: Client = {
  name: 'curl',
  skip: (w) =>
    w.concurrency > PARALLEL_MAX ? `curl's --parallel-max is at most ${PARALLEL_MAX}` : undefined,
  argv(job, tools) {
    const config = join(tools.tmp, 'curl.config');
    writeFileSync(config, `url = "${job.url}"\noutput = "${job.outFile ?? '/dev/null'}"\n`.repeat(job.total));
    return [
      tools.rusage,
      'curl',
      '--parallel',
      '--parallel-max',
      String(job.concurrency),
      '--no-progress-meter',
      ...(job.h2 ? ['--http2', '--insecure'] : []),
      '--write-out',
      '%{http_code} %{size_download} %{http_version}\\n',
      '--config',
      config,
    ];
  },
  parse(stdout, job) {
    const usage = lastJsonLine<Rusage>(stdout);
    const transfers = stdout.trim().split('\n').slice(0, -1);
    let bytes = 0;
    let failures = usage.exitCode === 0 ? 0 : 1;
    for (const line of transfers) {
      const [status, size, version] = line.split(' ');
      bytes += Number(size);
      if (status !== '200' || version !== (job.h2 ? '2' : '1.1')) failures++;
    }
    return {
      requests: transfers.length,
      bytes,
      failures,
      seconds: usage.seconds,
      cpuUs: usage.cpuUs,
      peakRssKb: usage.peakRssKb,
    };
  },
};
