/**
 * node-libcurl, built for the bench alone: installed into bench/peers/node-libcurl from its own
 * package.json and lockfile (`npm ci --ignore-scripts`: its install script would download a prebuilt
 * binary, which cannot work offline), then compiled from source against the system libcurl with its
 * own node-gyp and the headers of the running Node (`--nodedir`: npm_config_nodedir, else the prefix
 * of `process.execPath`). The build is kept and reused while Node's ABI, libcurl's version and the
 * lockfile stay the same. The project's own `npm ci` never sees it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptInstall, hasCommand } from './system.js';

export const PEER = fileURLToPath(new URL('./peers/node-libcurl/', import.meta.url));
const PACKAGE = join(PEER, 'node_modules', 'node-libcurl');
const BINDING = join(PACKAGE, 'lib', 'binding', 'node_libcurl.node');
const STAMP = join(PEER, 'node_modules', '.bench-build.json');

/** What the build depends on: when any of it changes, node-libcurl is built again. */
function buildKey(): string {
  return JSON.stringify({
    node: process.version,
    abi: process.versions.modules,
    libcurl: execFileSync('curl-config', ['--version'], { encoding: 'utf8' }).trim(),
    lock: createHash('sha256')
      .update(readFileSync(join(PEER, 'package-lock.json')))
      .digest('hex'),
  });
}

/** The folder whose include/node holds the running Node's headers, if one is known. */
function nodeDir(): string | undefined {
  const candidates = [process.env.npm_config_nodedir, dirname(dirname(process.execPath))];
  return candidates.find((dir) => dir && existsSync(join(dir, 'include', 'node', 'node.h')));
}

/** node-libcurl's binding loads in a fresh process. */
const loads = (): boolean =>
  spawnSync(process.execPath, ['-e', "require('node-libcurl').Curl.getVersion()"], {
    cwd: PEER,
    stdio: 'ignore',
  }).status === 0;

/** Runs a build step quietly; when it fails, shows the end of what it printed. */
function step(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): void {
  console.error(`bench: (${cwd}) ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status === 0) return;
  console.error(`${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n'));
  throw new Error(
    `${basename(command)} ${args[0]} failed (${result.error?.message ?? `exit status ${result.status}`})`,
  );
}

function build(): void {
  aptInstall([
    ...(hasCommand('python3') ? [] : ['python3']),
    ...(hasCommand('make') ? [] : ['make']),
    ...(hasCommand('g++') ? [] : ['g++']),
    ...(hasCommand('curl-config') ? [] : ['libcurl4-openssl-dev']),
  ]);
  const dir = nodeDir();
  if (dir === undefined)
    throw new Error(`no Node.js headers (include/node/node.h) under ${dirname(dirname(process.execPath))}`);
  rmSync(STAMP, { force: true });
  // Scripts off: node-libcurl's install script would fetch a prebuilt binary (node-pre-gyp).
  step('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], PEER);
  step(
    join(PEER, 'node_modules', '.bin', 'node-gyp'),
    [
      'rebuild',
      `--nodedir=${dir}`,
      '--module_name=node_libcurl',
      `--module_path=${dirname(BINDING)}`,
      `--jobs=2`,
    ],
    PACKAGE,
    { ...process.env, npm_config_nodedir: dir },
  );
}

/**
 * Makes sure node-libcurl is built and loads; returns why it cannot run, or undefined. Installs and
 * compiles it only when there is no build for this Node, libcurl and lockfile yet.
 */
export function ensureNodeLibcurl(): string | undefined {
  try {
    if (!hasCommand('curl-config')) aptInstall(['libcurl4-openssl-dev']);
    const key = buildKey();
    const built = existsSync(STAMP) && readFileSync(STAMP, 'utf8') === key && existsSync(BINDING);
    if (built && loads()) {
      console.error('bench: node-libcurl already built for this Node.js and libcurl');
      return undefined;
    }
    build();
    if (!loads()) return 'node-libcurl built, but its binding does not load';
    writeFileSync(STAMP, key);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return `node-libcurl did not build from source: ${message}`;
  }
}
