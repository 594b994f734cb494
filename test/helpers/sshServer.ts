// OpenSSH's sshd for the SFTP tests: a new host key, and a key pair of the current user that it
// accepts, made with ssh-keygen in a temporary folder.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { findProgram, startDaemon } from './daemon.js';
import { useTempDir } from './servers.js';

/** sshd's path, or undefined when it is not installed (Debian package openssh-server). */
export const SSHD = findProgram('/usr/sbin/sshd', '/usr/local/sbin/sshd');

export interface SshServer {
  /** 'sftp://<user>@127.0.0.1:<port>': paths follow, absolute ('/tmp/…'). */
  url: string;
  port: number;
  /** A folder for the test's files. */
  dir: string;
  /** The client's key pair, which the server accepts. */
  privateKeyFile: string;
  publicKeyFile: string;
  /** The server's host key as a known_hosts line for this port. */
  knownHostsLine: string;
  /** The base64 SHA-256 of the host key, as `ssh-keygen -l` prints it after "SHA256:". */
  hostKeySha256: string;
}

function newKey(path: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rxcurl-test', '-f', path]);
}

/** Starts sshd for this test; it stops when the test ends. */
export async function useSshServer(t: ExecutionContext): Promise<SshServer> {
  if (!SSHD) throw new Error('sshd is not installed');
  const base = useTempDir(t, 'rxcurl-ssh-');
  const dir = join(base, 'files');
  mkdirSync(dir);
  const hostKey = join(base, 'host_key');
  const privateKeyFile = join(base, 'client_key');
  newKey(hostKey);
  newKey(privateKeyFile);
  const publicKeyFile = `${privateKeyFile}.pub`;
  const authorized = join(base, 'authorized_keys');
  writeFileSync(authorized, readFileSync(publicKeyFile));
  // sshd's privilege separation needs this folder when it runs as root.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true });
  const config = join(base, 'sshd_config');
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      'PidFile none',
      `AuthorizedKeysFile ${authorized}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin yes',
      'UsePAM no',
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  const { port } = await startDaemon(t, SSHD, (port) => ['-D', '-e', '-f', config, '-p', String(port)]);
  const [type, blob] = readFileSync(`${hostKey}.pub`, 'utf8').split(' ');
  return {
    url: `sftp://${userInfo().username}@127.0.0.1:${port}`,
    port,
    dir,
    privateKeyFile,
    publicKeyFile,
    knownHostsLine: `[127.0.0.1]:${port} ${type} ${blob}\n`,
    hostKeySha256: createHash('sha256')
      .update(Buffer.from(blob!, 'base64'))
      .digest('base64')
      .replace(/=+$/, ''),
  };
}
