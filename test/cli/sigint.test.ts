// Ctrl-C: SIGINT cancels every transfer, leaves no partial file (unless --resume), prints the summary, exits 130.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { useServer, waitFor } from '../helpers/servers.js';
import { startCli, tempDir } from './helpers.js';

/** /endless sends a chunk every 20 ms, forever; /later.txt answers at once. */
async function endlessServer(t: ExecutionContext) {
  const requests: string[] = [];
  const server = await useServer(t, (req, res) => {
    requests.push(req.url!);
    if (req.url === '/later.txt') return void res.end('later');
    res.writeHead(200, { 'content-length': 100_000_000 });
    const timer = setInterval(() => res.write(Buffer.alloc(4096, 'e')), 20);
    res.on('close', () => clearInterval(timer));
  });
  return { url: server.url, requests };
}

/** Files in `dir`, and whether the partial file of `name` has some bytes. */
function partialHasBytes(dir: string, name: string): boolean {
  try {
    return statSync(join(dir, `.${name}.part`)).size > 0;
  } catch {
    return false;
  }
}

test('SIGINT cancels every transfer, removes the partial files, prints the summary and exits 130', async (t) => {
  const { url, requests } = await endlessServer(t);
  const dir = tempDir(t);
  // -j 2: two endless transfers run, /later.txt waits for a free slot.
  const cli = startCli(['-o', dir, '-j', '2', `${url}/endless`, `${url}/endless?2`, `${url}/later.txt`]);
  t.teardown(() => cli.child.kill('SIGKILL'));
  await waitFor(
    () => partialHasBytes(dir, 'endless') && partialHasBytes(dir, 'endless-1'),
    'both partial files',
    20_000,
  );

  cli.child.kill('SIGINT');
  const run = await cli.done;

  t.is(run.code, 130, run.stderr);
  t.deepEqual(readdirSync(dir), []);
  t.regex(run.stdout, new RegExp(`^cancelled endless ${url}/endless$`, 'm'));
  t.regex(run.stdout, new RegExp(`^cancelled endless-1 ${url}/endless\\?2$`, 'm'));
  t.regex(run.stdout, new RegExp(`^cancelled later\\.txt ${url}/later\\.txt$`, 'm'));
  t.regex(run.stdout, /^ {2}transfers +3 \(0 ok, 0 failed, 3 cancelled\)$/m);
  t.false(requests.includes('/later.txt'), 'a URL not started yet is not started after Ctrl-C');
});

test('SIGTERM does the same, with exit status 143', async (t) => {
  const { url } = await endlessServer(t);
  const dir = tempDir(t);
  const cli = startCli(['-o', dir, `${url}/endless`]);
  t.teardown(() => cli.child.kill('SIGKILL'));
  await waitFor(() => partialHasBytes(dir, 'endless'), 'the partial file', 20_000);

  cli.child.kill('SIGTERM');
  const run = await cli.done;

  t.is(run.code, 143, run.stderr);
  t.deepEqual(readdirSync(dir), []);
  t.regex(run.stdout, /^ {2}transfers +1 \(0 ok, 0 failed, 1 cancelled\)$/m);
});

test('with --resume, SIGINT keeps the partial file for the next run', async (t) => {
  const { url } = await endlessServer(t);
  const dir = tempDir(t);
  const cli = startCli(['-o', dir, '--resume', `${url}/endless`]);
  t.teardown(() => cli.child.kill('SIGKILL'));
  await waitFor(() => partialHasBytes(dir, 'endless'), 'the partial file', 20_000);

  cli.child.kill('SIGINT');
  const run = await cli.done;

  t.is(run.code, 130, run.stderr);
  t.deepEqual(readdirSync(dir), ['.endless.part']);
  t.true(statSync(join(dir, '.endless.part')).size > 0);
  t.regex(run.stdout, /^cancelled endless /m);
});

test('SIGINT drops what waits for the per-host rate: counted as cancelled, never started', async (t) => {
  const { url, requests } = await endlessServer(t);
  const dir = tempDir(t);
  // One start every 100 s on the host: /later.txt waits behind /endless.
  const cli = startCli(['-o', dir, '--rate-per-host', '0.01', `${url}/endless`, `${url}/later.txt`]);
  t.teardown(() => cli.child.kill('SIGKILL'));
  await waitFor(() => partialHasBytes(dir, 'endless'), 'the partial file', 20_000);

  cli.child.kill('SIGINT');
  const run = await cli.done;

  t.is(run.code, 130, run.stderr);
  t.deepEqual(readdirSync(dir), []);
  t.regex(run.stdout, new RegExp(`^cancelled later\\.txt ${url}/later\\.txt$`, 'm'));
  t.regex(run.stdout, /^ {2}transfers +2 \(0 ok, 0 failed, 2 cancelled\)$/m);
  t.deepEqual(requests, ['/endless']);
});
