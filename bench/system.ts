/** The machine: commands, Debian packages, CPU pinning and the fd limit of client processes. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, hostname, release } from 'node:os';

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Installs Debian packages with apt-get (as root, or through sudo). */
export function aptInstall(packages: string[]): void {
  if (packages.length === 0) return;
  if (!hasCommand('apt-get')) throw new Error(`install these packages first: ${packages.join(' ')}`);
  console.error(`bench: installing ${packages.join(' ')}`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const run = (args: string[]): void => {
    const [command, ...rest] = [...sudo, ...args];
    execFileSync(command!, rest, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  };
  run(['apt-get', 'update', '-q']);
  run(['apt-get', 'install', '-y', '-q', ...packages]);
}

/** Two CPUs or more and taskset: the server gets CPU 0, each client CPU 1. */
export const canPin = (): boolean => cpus().length >= 2 && hasCommand('taskset');

/** The argv prefix that pins a process to `cpu`, when pinning is possible. */
export const pinned = (cpu: number, argv: string[]): string[] =>
  canPin() ? ['taskset', '-c', String(cpu), ...argv] : argv;

/** The fd limit for nginx and the clients: 65,536, or the hard limit when it is lower. */
export function fdLimit(): number {
  const hard = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
  return hard === 'unlimited' ? 65536 : Math.min(65536, Number(hard));
}

/** The argv prefix that raises the soft fd limit (10,000 transfers in flight need more than 1,024). */
export const withFdLimit = (argv: string[]): string[] =>
  hasCommand('prlimit') ? ['prlimit', `--nofile=${fdLimit()}`, ...argv] : argv;

export interface MachineInfo {
  host: string;
  nproc: number;
  cpu: string;
  kernel: string;
  os: string;
  node: string;
  libcurl: string;
  nginx: string;
  pinned: boolean;
}

export function machineInfo(): MachineInfo {
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  const curlVersion = execFileSync('curl', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  const nginxVersion = spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim();
  return {
    host: hostname(),
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    kernel: release(),
    os: /^PRETTY_NAME="?([^"\n]*)/m.exec(osRelease)?.[1] ?? process.platform,
    node: process.version,
    libcurl: /libcurl\/\S+(?: \S+)?/.exec(curlVersion)?.[0] ?? 'unknown',
    nginx: nginxVersion.replace(/^nginx version: /, ''),
    pinned: canPin(),
  };
}
