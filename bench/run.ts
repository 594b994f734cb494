/**
 * `npm run bench`: rxcurl (`transfer()` and `requestAll()`) against the floor under it (a bare koffi
 * loop), node-libcurl, libcurl in C, curl's CLI, undici and fetch, on the same workloads, in the same
 * run, against one nginx on 127.0.0.1.
 *
 *   npm run bench -- [--only 1k,64k,256m,4x256m,1g,h2,10k,cold]
 *                    [--clients rxcurl,rxcurl-queue,rxcurl-all,floor,node-libcurl,c,curl,undici,fetch]
 *                    [--runs N] [--no-build]
 *
 * Prints a markdown table to stdout (progress goes to stderr) and writes every run as JSON to
 * bench/results/<ISO date>-<host>.json. BENCH_RUNS sets the default number of runs (5).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Client, Tools } from './clients/client.js';
import { CLIENTS } from './clients/index.js';
import type { Job } from './job.js';
import { ensureNginx, type Nginx, startNginx } from './nginx.js';
import { assess, markdown, type RunRecord } from './report.js';
import { aptInstall, hasCommand, machineInfo, pinned, withFdLimit } from './system.js';
import { bodyBytes, WORKLOADS, type Workload, warmupOf } from './workloads.js';

const BENCH = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(BENCH, '..');
const JOB_TIMEOUT_MS = 10 * 60 * 1000;

function pick<T extends { id?: string; name?: string }>(
  all: T[],
  list: string | undefined,
  what: string,
): T[] {
  if (list === undefined) return all;
  const names = list.split(',').map((name) => name.trim());
  const key = (item: T): string => item.id ?? item.name ?? '';
  const unknown = names.filter((name) => !all.some((item) => key(item) === name));
  if (unknown.length > 0)
    throw new Error(`unknown ${what}: ${unknown.join(', ')} (known: ${all.map(key).join(', ')})`);
  return all.filter((item) => names.includes(key(item)));
}

function options() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      clients: { type: 'string' },
      runs: { type: 'string', default: process.env.BENCH_RUNS ?? '5' },
      'no-build': { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be a positive integer, not ${values.runs}`);
  return {
    workloads: pick(WORKLOADS, values.only, 'workload'),
    clients: pick(CLIENTS, values.clients, 'client'),
    runs,
    build: !values['no-build'],
  };
}

/** A C compiler, libcurl's headers and curl's CLI, installed when missing. */
function ensureToolchain(): void {
  const hasCurlHeaders = (): boolean =>
    hasCommand('cc') &&
    spawnSync('cc', ['-E', '-x', 'c', '-'], {
      input: '#include <curl/curl.h>\n',
      stdio: ['pipe', 'ignore', 'ignore'],
    }).status === 0;
  aptInstall([
    ...(hasCommand('cc') ? [] : ['gcc', 'libc6-dev']),
    ...(hasCurlHeaders() ? [] : ['libcurl4-openssl-dev']),
    ...(hasCommand('curl') ? [] : ['curl']),
  ]);
}

function prepare(tmp: string, build: boolean): Tools {
  const step = (command: string, args: string[]): void => {
    console.error(`bench: ${command} ${args.join(' ')}`);
    execFileSync(command, args, { cwd: ROOT, stdio: ['ignore', process.stderr, 'inherit'] });
  };
  if (build) step('npm', ['run', '--silent', 'build']);
  step(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(BENCH, 'tsconfig.json')]);
  const tools: Tools = {
    multi: join(tmp, 'multi'),
    rusage: join(tmp, 'rusage'),
    build: join(BENCH, '.build'),
    tmp,
  };
  step('cc', ['-O2', '-o', tools.multi, join(BENCH, 'c', 'multi.c'), '-lcurl']);
  step('cc', ['-O2', '-o', tools.rusage, join(BENCH, 'c', 'rusage.c')]);
  return tools;
}

interface Finished {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** From spawn to exit. */
  seconds: number;
}

/** The client process running now (leader of its own process group), killed if the bench is stopped. */
let running: ChildProcess | undefined;

function runProcess(argv: string[]): Promise<Finished> {
  const [command, ...args] = argv;
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(command!, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: JOB_TIMEOUT_MS,
      detached: true,
    });
    running = child;
    let stdout = '';
    let stderr = '';
    let seconds = 0;
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', reject);
    child.once('exit', () => {
      seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    });
    child.once('close', (code, signal) => {
      running = undefined;
      const exitCode = code ?? 128 + (signal === null ? 0 : constants.signals[signal]);
      resolve({ exitCode, stdout, stderr, seconds });
    });
  });
}

async function runOne(
  client: Client,
  workload: Workload,
  run: number,
  nginx: Nginx,
  tools: Tools,
): Promise<RunRecord> {
  const origin = workload.h2 ? nginx.httpsOrigin : nginx.httpOrigin;
  const outFile = workload.download ? join(tools.tmp, 'downloads', `${client.name}.bin`) : undefined;
  const job: Job = {
    url: `${origin}/${workload.path}`,
    total: workload.total,
    concurrency: workload.concurrency,
    h2: workload.h2,
    warmup: warmupOf(workload),
    cold: workload.cold,
    memory: workload.memory,
    ...(outFile === undefined ? {} : { outFile }),
  };
  const record: RunRecord = { run, workload: workload.id, client: client.name, job };
  const expected = bodyBytes(workload) * workload.total;
  const finished = await runProcess(withFdLimit(pinned(1, client.argv(job, tools))));
  try {
    const problems = finished.exitCode === 0 ? [] : [`exit status ${finished.exitCode}`];
    if (outFile !== undefined) {
      const size = statSync(outFile, { throwIfNoEntry: false })?.size;
      if (size !== expected) problems.push(`file of ${size ?? 'no'} bytes instead of ${expected}`);
      rmSync(outFile, { force: true });
    }
    Object.assign(
      record,
      assess(client.parse(finished.stdout, job), expected, job, problems, finished.seconds),
    );
  } catch {
    const output = `${finished.stderr}${finished.stdout}`.trim().slice(-500);
    record.invalid = `exit ${finished.exitCode}, no measurement: ${output}`;
  }
  return record;
}

const describe = (r: RunRecord): string =>
  r.metrics === undefined
    ? `INVALID ${r.invalid}`
    : `${Math.round(r.metrics.reqPerSec)} req/s, ${r.metrics.mbPerSec.toFixed(1)} MB/s, ` +
      `${r.metrics.cpuUsPerRequest.toFixed(1)} µs CPU/req, ${r.metrics.peakRssMiB.toFixed(1)} MiB` +
      (r.invalid === undefined ? '' : ` INVALID ${r.invalid}`);

/** The commit rxcurl was built from, and whether src/ had uncommitted changes. */
function revision(): string {
  const git = (args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  try {
    return `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--', 'src']) === '' ? '' : ' with uncommitted changes in src/'}`;
  } catch {
    return 'of unknown revision';
  }
}

async function main(): Promise<void> {
  const { workloads, clients, runs, build } = options();
  ensureNginx();
  ensureToolchain();
  const tmp = mkdtempSync(join(tmpdir(), 'rxcurl-bench-'));
  chmodSync(tmp, 0o755); // nginx's worker (nobody) reads the payloads
  mkdirSync(join(tmp, 'downloads'));
  let nginx: Nginx | undefined;
  const cleanUp = (): void => {
    try {
      if (running?.pid !== undefined) process.kill(-running.pid, 'SIGKILL');
    } catch {
      // it has just exited
    }
    nginx?.stop();
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

  const tools = prepare(tmp, build);
  const rxcurl = revision();
  console.error('bench: generating payloads and starting nginx');
  nginx = await startNginx(tmp);
  const machine = machineInfo();
  console.error(`bench: ${JSON.stringify(machine)}`);

  const skipped = new Map<string, string>();
  for (const client of clients) {
    const why = client.prepare?.();
    if (why === undefined) continue;
    console.error(`bench: ${client.name} will not run: ${why}`);
    for (const w of workloads) skipped.set(`${w.id}/${client.name}`, why);
  }
  for (const w of workloads) {
    for (const client of clients) {
      if (skipped.has(`${w.id}/${client.name}`)) continue;
      const why = client.skip(w);
      if (why !== undefined) skipped.set(`${w.id}/${client.name}`, why);
    }
  }
  const records: RunRecord[] = [];
  for (let run = 1; run <= runs; run++) {
    for (const workload of workloads) {
      // Rotate the clients' order from run to run, so that none always runs first after a warm server.
      const order = clients.map((_, i) => clients[(i + run - 1) % clients.length]!);
      for (const client of order.filter((c) => !skipped.has(`${workload.id}/${c.name}`))) {
        const record = await runOne(client, workload, run, nginx, tools);
        records.push(record);
        console.error(`run ${run}/${runs} ${workload.id} ${client.name}: ${describe(record)}`);
      }
    }
  }

  const date = new Date().toISOString();
  const report = markdown(
    workloads,
    clients.map((c) => c.name),
    records,
    skipped,
  );
  const resultsDir = join(BENCH, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const resultFile = join(resultsDir, `${date.replace(/[:.]/g, '-')}-${machine.host}.json`);
  writeFileSync(
    resultFile,
    JSON.stringify({
      date,
      rxcurl,
      machine,
      runs,
      workloads,
      clients: clients.map((c) => c.name),
      skipped: Object.fromEntries(skipped),
      records,
      report,
    }),
  );
  // Formatted as the repository's linter wants it, so that a result file can be committed as is.
  execFileSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', resultFile], {
    stdio: 'ignore',
  });
  console.log(
    `rxcurl ${rxcurl}. Medians of ${runs} run${runs === 1 ? '' : 's'}; ${machine.nproc} × ${machine.cpu}, Linux ${machine.kernel}, ` +
      `Node ${machine.node}, ${machine.libcurl}, nginx ${machine.nginx}${machine.pinned ? ', nginx on CPU 0, clients on CPU 1' : ', not pinned'}.\n`,
  );
  console.log(report);
  console.error(`bench: raw runs in ${resultFile}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
