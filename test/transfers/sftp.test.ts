// SFTP against OpenSSH's sshd started by each test (test/helpers/sshServer.ts): download, upload,
// listing, resume, and the host key checked by default.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom } from 'rxjs';
import { partialPath } from '../../src/api/downloadTo.js';
import { CurlError, type CurlRequest } from '../../src/index.js';
import { randomPayload, useCurl, useTempDir } from '../helpers/servers.js';
import { SSHD, type SshServer, useSshServer } from '../helpers/sshServer.js';

const sshTest = SSHD ? test : test.skip;
const sshSerial = SSHD ? test.serial : test.skip;
const skipped = SSHD ? '' : ' (skipped: sshd not found; Debian package openssh-server)';
const PAYLOAD = randomPayload(2 * 1024 * 1024 + 5);

/** HOME for this test file: the default known_hosts is looked up there (~/.ssh/known_hosts). */
const home = useHome();
function useHome(): string {
  const dir = join(process.env.TMPDIR ?? '/tmp', `rxcurl-sftp-home-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  process.env.HOME = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A known_hosts file with the server's key, written by the test. */
function knownHosts(t: ExecutionContext, server: SshServer): string {
  const file = join(useTempDir(t, 'rxcurl-known-'), 'known_hosts');
  writeFileSync(file, server.knownHostsLine);
  return file;
}

function sftp(server: SshServer, path: string, ssh: CurlRequest['ssh'] = {}): CurlRequest {
  return {
    url: `${server.url}${path}`,
    protocols: ['sftp'],
    ssh: { privateKeyFile: server.privateKeyFile, publicKeyFile: server.publicKeyFile, ...ssh },
  };
}

sshTest(
  `download with known_hosts: bytes intact, status 0 (SFTP has no reply codes)${skipped}`,
  async (t) => {
    const server = await useSshServer(t);
    writeFileSync(join(server.dir, 'data.bin'), PAYLOAD);
    const curl = useCurl(t);
    const req = sftp(server, `${server.dir}/data.bin`, { knownHostsFile: knownHosts(t, server) });
    const response = await lastValueFrom(curl.request(req));
    t.true(response.body.equals(PAYLOAD));
    t.true(response.result.ok);
    t.is(response.result.status, 0);
    t.is(response.result.httpVersion, '');
  },
);

sshTest(`hostPublicKeySha256 pins the host key, with or without the SHA256: prefix${skipped}`, async (t) => {
  const server = await useSshServer(t);
  writeFileSync(join(server.dir, 'a.txt'), 'pinned');
  const curl = useCurl(t);
  for (const pin of [server.hostKeySha256, `SHA256:${server.hostKeySha256}`]) {
    const req = sftp(server, `${server.dir}/a.txt`, { hostPublicKeySha256: pin });
    t.is((await lastValueFrom(curl.request(req))).text(), 'pinned');
  }
});

sshTest(
  `a wrong pinned key or a known_hosts without the server fails with CurlError 60${skipped}`,
  async (t) => {
    const server = await useSshServer(t);
    writeFileSync(join(server.dir, 'a.txt'), 'secret');
    const other = join(useTempDir(t, 'rxcurl-known-'), 'known_hosts');
    // Another host's key under this server's name.
    writeFileSync(
      other,
      server.knownHostsLine.replace(
        / \S+\n$/,
        ' AAAAC3NzaC1lZDI1NTE5AAAAIB1Ldn3E/+xVCNYvjDaZmMfKiQvLKDaq6n/f8sGxcHmC\n',
      ),
    );
    const curl = useCurl(t);
    const wrongPin = 'A'.repeat(43);
    for (const ssh of [{ hostPublicKeySha256: wrongPin }, { knownHostsFile: other }]) {
      const error = await t.throwsAsync(
        lastValueFrom(curl.request(sftp(server, `${server.dir}/a.txt`, ssh))),
        {
          instanceOf: CurlError,
        },
      );
      t.is(error.code, 60, JSON.stringify(ssh));
      t.is(error.codeName, 'CURLE_PEER_FAILED_VERIFICATION');
    }
  },
);

sshSerial(
  `with no host-key option, ~/.ssh/known_hosts decides: refused without it, accepted with the key${skipped}`,
  async (t) => {
    const server = await useSshServer(t);
    writeFileSync(join(server.dir, 'a.txt'), 'trusted');
    const curl = useCurl(t);
    const req = sftp(server, `${server.dir}/a.txt`);
    const error = await t.throwsAsync(lastValueFrom(curl.request(req)), { instanceOf: CurlError });
    t.is(error.code, 60, 'no known_hosts: not trusted');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'known_hosts'), server.knownHostsLine);
    t.is((await lastValueFrom(curl.request(req))).text(), 'trusted');
  },
);

sshTest(`PUT uploads; the file on the server is what was sent${skipped}`, async (t) => {
  const server = await useSshServer(t);
  const curl = useCurl(t);
  const req = sftp(server, `${server.dir}/up.bin`, { hostPublicKeySha256: server.hostKeySha256 });
  const response = await lastValueFrom(curl.request({ ...req, method: 'PUT', body: PAYLOAD }));
  t.is(response.result.uploadedBytes, PAYLOAD.length);
  t.true(readFileSync(join(server.dir, 'up.bin')).equals(PAYLOAD));
});

sshTest(`a URL ending in / lists the directory${skipped}`, async (t) => {
  const server = await useSshServer(t);
  writeFileSync(join(server.dir, 'one.txt'), '1');
  writeFileSync(join(server.dir, 'two.txt'), '2');
  const curl = useCurl(t);
  const req = sftp(server, `${server.dir}/`, { hostPublicKeySha256: server.hostKeySha256 });
  const listing = (await lastValueFrom(curl.request(req))).text();
  t.regex(listing, /\bone\.txt$/m);
  t.regex(listing, /\btwo\.txt$/m);
});

sshTest(
  `download() with resume continues a partial file; a missing file is CurlError 78${skipped}`,
  async (t) => {
    const server = await useSshServer(t);
    writeFileSync(join(server.dir, 'big.bin'), PAYLOAD);
    const dir = useTempDir(t, 'rxcurl-sftp-dl-');
    const path = join(dir, 'big.bin');
    const kept = 777_777;
    writeFileSync(partialPath(path), PAYLOAD.subarray(0, kept));
    const curl = useCurl(t);
    const ssh = { hostPublicKeySha256: server.hostKeySha256 };
    const done = await lastValueFrom(
      curl.download({ ...sftp(server, `${server.dir}/big.bin`, ssh), resume: true }, path),
    );
    t.true(readFileSync(path).equals(PAYLOAD));
    t.is(
      done.type === 'done' && done.result.downloadedBytes,
      PAYLOAD.length - kept,
      'only the rest travelled',
    );

    const error = await t.throwsAsync(
      lastValueFrom(curl.download(sftp(server, `${server.dir}/missing.bin`, ssh), join(dir, 'missing.bin'))),
      { instanceOf: CurlError },
    );
    t.is(error.code, 78);
    t.deepEqual(readdirSync(dir), ['big.bin']);
  },
);

test('ssh fields are validated: a malformed pin is INVALID_INPUT naming the field', async (t) => {
  const curl = useCurl(t);
  const error = await t.throwsAsync(
    lastValueFrom(
      curl.request({ url: 'sftp://127.0.0.1/x', protocols: ['sftp'], ssh: { hostPublicKeySha256: 'nope' } }),
    ),
    { instanceOf: CurlError },
  );
  t.is(error.code, 'INVALID_INPUT');
  t.true(error.message.includes('ssh.hostPublicKeySha256'));
});
