import { CURLE } from '../errors/curlCodes.js';
import type { Handle, Libcurl } from './libcurl.js';

/**
 * The curl_slists one easy handle points at for list options (RESOLVE, CONNECT_TO, QUOTE…), by
 * option id. libcurl keeps the pointer, not a copy: a list lives until its option is set to another
 * list, or the handle is reset or cleaned up, and is freed then.
 */
export class OptionLists {
  /** Lists made and not yet freed, over every handle of the process: a leak shows here. */
  static alive = 0;
  private readonly byId = new Map<number, Handle>();

  /** Sets option `id` to a new list of `items` (none: NULL), then frees the list it replaces. */
  set(lib: Libcurl, easy: Handle, id: number, items: readonly string[]): number {
    let list: Handle = 0;
    for (const item of items) {
      const longer = lib.slist_append(list, item);
      if (longer === 0) {
        this.free(lib, list);
        return CURLE.OUT_OF_MEMORY;
      }
      if (list === 0) OptionLists.alive++;
      list = longer;
    }
    const rc = lib.easy_setopt.pointer(easy, id, list);
    if (rc !== 0) {
      this.free(lib, list);
      return rc;
    }
    const replaced = this.byId.get(id);
    if (list === 0) this.byId.delete(id);
    else this.byId.set(id, list);
    if (replaced !== undefined) this.free(lib, replaced);
    return 0;
  }

  /**
   * Points the handle away from every list, then frees them: after curl_easy_reset, which keeps a
   * second pointer to the RESOLVE list (state.resolve, until a transfer starts), and before cleanup.
   */
  release(lib: Libcurl, easy: Handle): void {
    if (this.byId.size === 0) return;
    for (const [id, list] of this.byId) {
      lib.easy_setopt.pointer(easy, id, null);
      this.free(lib, list);
    }
    this.byId.clear();
  }

  private free(lib: Libcurl, list: Handle): void {
    if (list === 0) return;
    lib.slist_free_all(list);
    OptionLists.alive--;
  }
}
