import koffi, { type node } from 'koffi';
import { Observable } from 'rxjs';
import {
  CURL_CSELECT_ERR,
  CURL_CSELECT_IN,
  CURL_CSELECT_OUT,
  CURL_POLL_IN,
  CURL_POLL_OUT,
} from '../core/socketEvents.js';

interface PollEvents {
  readable: boolean;
  writable: boolean;
}

/**
 * Readiness of one socket, from a libuv poll handle on the calling thread's loop (koffi.node.poll).
 * Watches the CURL_POLL_* interest that `interest` emits — one poll handle for the socket's life,
 * re-armed only when the interest changes — and emits CURL_CSELECT_* bitmasks. A poll error becomes
 * CURL_CSELECT_ERR with the interest bits, so libcurl tries the socket and learns what went wrong.
 * Completing `interest` (CURL_POLL_REMOVE) or unsubscribing closes the handle, which takes the fd
 * out of the kernel's poll set at once.
 *
 * koffi's poll callback receives `(status, events)` although its typings declare one argument.
 */
export function pollSocket(fd: number, interest: Observable<number>): Observable<number> {
  return new Observable<number>((subscriber) => {
    let handle: node.PollHandle | undefined;
    let watched = -1;
    const onPoll = (status: number, events: PollEvents) => {
      if (status < 0) {
        subscriber.next(CURL_CSELECT_ERR | (watched & (CURL_POLL_IN | CURL_POLL_OUT)));
        return;
      }
      subscriber.next((events.readable ? CURL_CSELECT_IN : 0) | (events.writable ? CURL_CSELECT_OUT : 0));
    };
    const callback = onPoll as unknown as (ev: node.PollEvents) => void;
    const watching = interest.subscribe({
      next: (what) => {
        if (what === watched) return;
        watched = what;
        const options = { readable: (what & CURL_POLL_IN) !== 0, writable: (what & CURL_POLL_OUT) !== 0 };
        try {
          if (!options.readable && !options.writable) handle?.stop();
          else if (handle) handle.start(options, callback);
          else handle = koffi.node.poll(fd, options, callback);
        } catch {
          // libuv refused the fd: let libcurl try it and fail the transfer itself.
          queueMicrotask(() => subscriber.next(CURL_CSELECT_ERR));
        }
      },
      complete: () => subscriber.complete(),
    });
    return () => {
      watching.unsubscribe();
      handle?.close();
      handle = undefined;
    };
  });
}
