// vsftpd for the FTP tests: anonymous, with write access to a temporary folder, passive mode on
// 127.0.0.1, every FTP command logged.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { findProgram, startDaemon } from './daemon.js';
import { useTempDir } from './servers.js';

/** vsftpd's path, or undefined when it is not installed (Debian package vsftpd). */
export const VSFTPD = findProgram('/usr/sbin/vsftpd', '/usr/local/sbin/vsftpd');

export interface FtpServer {
  /** 'ftp://127.0.0.1:<port>/pub/': the writable folder, where tests put their files. */
  url: string;
  /** That folder on disk. */
  dir: string;
  /** The FTP commands the server received so far, in order ("RETR a.txt", "REST 100"…). */
  commands(): string[];
}

/** Starts vsftpd for this test; it stops when the test ends. */
export async function useFtpServer(t: ExecutionContext): Promise<FtpServer> {
  if (!VSFTPD) throw new Error('vsftpd is not installed');
  const base = useTempDir(t, 'rxcurl-ftp-');
  // vsftpd refuses a chroot (the anonymous root) that its user can write: the writable folder is below.
  const root = join(base, 'root');
  const dir = join(root, 'pub');
  const empty = join(base, 'empty');
  for (const folder of [root, dir, empty]) mkdirSync(folder);
  chmodSync(base, 0o755);
  chmodSync(dir, 0o777); // anonymous uploads run as the ftp user
  const log = join(base, 'vsftpd.log');
  const config = join(base, 'vsftpd.conf');
  const settings = (port: number) => ({
    listen: 'YES',
    listen_ipv6: 'NO',
    background: 'NO',
    listen_address: '127.0.0.1',
    listen_port: port,
    anonymous_enable: 'YES',
    no_anon_password: 'YES',
    local_enable: 'NO',
    anon_root: root,
    write_enable: 'YES',
    anon_upload_enable: 'YES',
    anon_mkdir_write_enable: 'YES',
    anon_other_write_enable: 'YES',
    anon_umask: '022',
    secure_chroot_dir: empty,
    // A container may not allow the system calls of vsftpd's seccomp filter.
    seccomp_sandbox: 'NO',
    pasv_enable: 'YES',
    port_enable: 'NO',
    xferlog_enable: 'YES',
    xferlog_std_format: 'NO',
    log_ftp_protocol: 'YES',
    vsftpd_log_file: log,
  });
  const { port } = await startDaemon(t, VSFTPD, (port) => {
    const lines = Object.entries(settings(port)).map(([key, value]) => `${key}=${value}`);
    writeFileSync(config, `${lines.join('\n')}\n`);
    return [config];
  });
  return {
    url: `ftp://127.0.0.1:${port}/pub/`,
    dir,
    commands: () => {
      let text = '';
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        // nothing logged yet
      }
      return [...text.matchAll(/FTP command: Client "[^"]*", "([^"]*)"/g)].map((m) => m[1]!);
    },
  };
}
