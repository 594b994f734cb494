// --proto: other protocols than http and https are opt-in on the command line too.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { useFtpServer, VSFTPD } from '../helpers/ftpServer.js';
import { runCli, tempDir } from './helpers.js';

const ftpTest = VSFTPD ? test : test.skip;
const skipped = VSFTPD ? '' : ' (skipped: vsftpd not found; Debian package vsftpd)';

ftpTest(
  `--proto ftp downloads an ftp:// URL; without it the URL fails with curl code 1${skipped}`,
  async (t) => {
    const server = await useFtpServer(t);
    writeFileSync(join(server.dir, 'file.txt'), 'from ftp');
    const out = tempDir(t);
    const refused = await runCli(['-q', '-o', out, `${server.url}file.txt`]);
    t.is(refused.code, 1, refused.stderr);
    t.regex(refused.stderr, /\b1\b|UNSUPPORTED_PROTOCOL/);
    const allowed = await runCli(['-q', '--proto', 'http,https,ftp', '-o', out, `${server.url}file.txt`]);
    t.is(allowed.code, 0, allowed.stderr);
    t.is(readFileSync(join(out, 'file.txt'), 'utf8'), 'from ftp');
  },
);
