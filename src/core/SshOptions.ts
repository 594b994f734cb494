/**
 * SFTP and SCP: the key files to log in with, and how the server's host key is checked.
 *
 * The host key is always checked. With neither `knownHostsFile` nor `hostPublicKeySha256`, it is
 * looked up in `~/.ssh/known_hosts`, as the curl command line does; a server that is not there
 * (or a missing file) fails the transfer with `CurlError` 60 (`CURLE_PEER_FAILED_VERIFICATION`).
 *
 * @example
 * ```ts
 * curl.request({
 *   url: 'sftp://deploy@files.example.com/srv/report.csv',
 *   protocols: ['sftp'],
 *   ssh: { privateKeyFile: '/home/me/.ssh/id_ed25519', knownHostsFile: '/home/me/.ssh/known_hosts' },
 * });
 * ```
 */
export interface SshOptions {
  /** The private key to log in with (CURLOPT_SSH_PRIVATE_KEYFILE). */
  privateKeyFile?: string;
  /** Its public key (CURLOPT_SSH_PUBLIC_KEYFILE); libssh2 derives it from the private key when unset. */
  publicKeyFile?: string;
  /** An OpenSSH known_hosts file the server's key must be in (CURLOPT_SSH_KNOWNHOSTS). */
  knownHostsFile?: string;
  /**
   * The server's key pinned: the base64 SHA-256 of it, as `ssh-keygen -l` prints it
   * (`SHA256:` prefix optional; CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256).
   */
  hostPublicKeySha256?: string;
}
