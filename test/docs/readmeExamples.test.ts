// Every TypeScript example of the README type-checks against rxcurl's own types: an example that
// drifts from the API (a renamed option, a wrong shape) fails here. Each block is compiled as a
// module of its own; the names the prose leaves to the reader (`curl`, `url`, …) are declared for
// it, and rxjs and rxcurl names it uses without importing are imported. A block that imports a
// package this project does not install (OpenTelemetry's API, in the Diagnostics recipe) is left out.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import * as rxjs from 'rxjs';
import * as rxcurl from '../../src/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'node_modules', '.cache', 'readme-examples');
const SRC = relative(DIR, join(ROOT, 'src', 'index.js'));
const require = createRequire(join(ROOT, 'package.json'));

/** What the README's prose takes as given. */
const GIVEN: Record<string, string> = {
  curl: 'Curl',
  url: 'string',
  urls: 'string[]',
  isoUrl: 'string',
  token: 'string',
  size: 'number',
  bytes: 'Uint8Array',
  thumbnailBytes: 'Uint8Array',
  logSize: 'number',
  certPem: 'string',
  keyPem: 'string',
  fs: "typeof import('node:fs')",
  sink: "import('node:stream').Writable",
};

const declares = (block: string, name: string) =>
  new RegExp(
    `\\b(const|let|var|class)\\s+${name}\\b|\\bfunction\\*?\\s*${name}\\b|import[^;]*\\b${name}\\b[^;]*from`,
  ).test(block);
const uses = (block: string, name: string) => new RegExp(`(^|[^.\\w$'"\`])${name}\\b`).test(block);

/** The block without its comments and string contents, where a word is a name the code uses. */
const codeOf = (block: string) =>
  block
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''")
    .replace(/\/\/[^\n]*/g, '');

function moduleFor(block: string): string {
  const lines: string[] = [];
  const code = codeOf(block);
  const missing = (names: string[]) => names.filter((n) => uses(code, n) && !declares(block, n));
  const fromRxjs = missing(Object.keys(rxjs).filter((n) => /^[a-zA-Z]\w*$/.test(n) && n !== 'default'));
  const fromRxcurl = missing(Object.keys(rxcurl));
  if (fromRxjs.length > 0) lines.push(`import { ${fromRxjs.join(', ')} } from 'rxjs';`);
  // `curl` is given as a Curl: its type must be in scope.
  if (uses(code, 'curl') && !declares(block, 'curl') && !declares(block, 'Curl')) fromRxcurl.push('Curl');
  if (fromRxcurl.length > 0) lines.push(`import { ${[...new Set(fromRxcurl)].join(', ')} } from '${SRC}';`);
  for (const [name, type] of Object.entries(GIVEN)) {
    if (uses(code, name) && !declares(block, name)) lines.push(`declare const ${name}: ${type};`);
  }
  const body = block
    .replaceAll("from 'rxcurl/testing'", `from '${SRC.replace(/index\.js$/, 'testing/index.js')}'`)
    .replaceAll("from 'rxcurl'", `from '${SRC}'`);
  return `${lines.join('\n')}\n${body}\nexport {};\n`;
}

function installed(block: string): boolean {
  for (const [, name] of block.matchAll(/from '([^'.][^']*)'/g)) {
    if (name.startsWith('node:') || name === 'rxcurl' || name.startsWith('rxcurl/')) continue;
    try {
      require.resolve(name);
    } catch {
      return false;
    }
  }
  return true;
}

test('every TypeScript example of the README type-checks against the API', async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const files: string[] = [];
  blocks.forEach((block, i) => {
    if (!installed(block)) {
      t.log(`example ${i + 1} left out: it imports a package this project does not install`);
      return;
    }
    const file = `example${String(i + 1).padStart(2, '0')}.ts`;
    writeFileSync(join(DIR, file), moduleFor(block));
    files.push(file);
  });
  writeFileSync(
    join(DIR, 'tsconfig.json'),
    JSON.stringify({
      extends: relative(DIR, join(ROOT, 'tsconfig.json')),
      include: files,
      compilerOptions: { noEmit: true },
    }),
  );
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
  const outcome = await promisify(execFile)(tsc, ['-p', join(DIR, 'tsconfig.json')]).then(
    () => '',
    (error: { stdout?: string }) => error.stdout ?? String(error),
  );
  t.is(outcome, '', 'tsc found errors in the README examples (exampleNN is the NNth ```ts block)');
  t.true(files.length >= blocks.length - 1, `${files.length} of ${blocks.length} examples checked`);
});
