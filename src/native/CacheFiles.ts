import {
  CURL_LOCK_DATA_HSTS,
  CURLALTSVC_H1,
  CURLALTSVC_H2,
  CURLALTSVC_H3,
  CURLHSTS_ENABLE,
  CURLOPT,
  CURLSHOPT_SHARE,
} from './constants.js';
import type { Handle, Libcurl } from './libcurl.js';
import { libcurlVersion } from './version.js';

/**
 * A Curl's HSTS and alt-svc cache files (its `hsts` and `altSvc` options).
 *
 * HSTS lives in the Curl's share handle (CURL_LOCK_DATA_HSTS, libcurl >= 7.88), so every easy
 * handle of the Curl reads and updates one cache. libcurl reads a CURLOPT_HSTS file only when a
 * transfer starts, and again at every transfer of a handle that has it: so the file is set on one
 * handle of our own, which starts one transfer here that cannot connect (an unknown scheme) only to
 * load it. Pooled handles get nothing but the share, and nothing is read per transfer. Every easy
 * handle that used the cache writes it to the file when it is cleaned up: at close() at the latest.
 *
 * alt-svc cannot be shared in libcurl (no CURL_LOCK_DATA for it, 7.88 to 8.x): each easy handle
 * reads the file when it is created, keeps its own cache through resets, and writes it back when
 * it is cleaned up (at close()), the last one written winning.
 */
export class CacheFiles {
  private keeper: Handle = 0;

  constructor(
    private readonly lib: Libcurl,
    private readonly hsts: string | undefined,
    private readonly altSvc: string | undefined,
  ) {}

  /** Shares HSTS in `share` and loads the file into it. */
  open(share: Handle): void {
    const { lib, hsts } = this;
    if (hsts === undefined) return;
    if (lib.share_setopt_long(share, CURLSHOPT_SHARE, 'int', CURL_LOCK_DATA_HSTS) !== 0) {
      throw new TypeError(
        `Curl option hsts needs libcurl 7.88 or later; this is libcurl ${libcurlVersion(lib).libcurl}`,
      );
    }
    const keeper = lib.easy_init();
    if (keeper === 0) throw new Error('curl_easy_init failed');
    this.keeper = keeper;
    lib.easy_setopt.pointer(keeper, CURLOPT.SHARE, share);
    lib.easy_setopt.long(keeper, CURLOPT.HSTS_CTRL, CURLHSTS_ENABLE);
    lib.easy_setopt.string(keeper, CURLOPT.HSTS, hsts);
    lib.easy_setopt.long(keeper, CURLOPT.NOSIGNAL, 1);
    // The file is read as the transfer starts; it then fails with CURLE_UNSUPPORTED_PROTOCOL at once.
    lib.easy_setopt.string(keeper, CURLOPT.URL, 'x-rxcurl-load-hsts:');
    lib.easy_perform(keeper);
  }

  /** A new easy handle (after CURLOPT_SHARE): its alt-svc cache, read from the file. */
  applyTo(easy: Handle): void {
    const { lib, altSvc } = this;
    if (altSvc === undefined) return;
    const h3 = libcurlVersion(lib).features.http3 ? CURLALTSVC_H3 : 0;
    lib.easy_setopt.long(easy, CURLOPT.ALTSVC_CTRL, CURLALTSVC_H1 | CURLALTSVC_H2 | h3);
    lib.easy_setopt.string(easy, CURLOPT.ALTSVC, altSvc);
  }

  /** Writes the HSTS file (if no easy handle did yet); before the share handle is cleaned up. */
  close(): void {
    if (this.keeper === 0) return;
    this.lib.easy_cleanup(this.keeper);
    this.keeper = 0;
  }
}
