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
 * Readiness of sockets, from libuv poll handles on the calling thread's loop (koffi.node.poll).
 *
 * One poll handle per fd number. libcurl stops watching a connection (CURL_POLL_REMOVE) each time
 * it goes back to the connection cache and watches it again for the next transfer, so a handle is
 * only stopped on REMOVE and kept for the fd; it is closed when the socket itself is closed
 * (`socketClosed`, from CURLOPT_CLOSESOCKETFUNCTION) or with everything at `closeAll`. A stopped
 * handle is only an fd number to libuv, so keeping it is safe even if the number is reused.
 *
 * koffi's poll callback receives `(status, events)` although its typings declare one argument.
 */
export class SocketPolls {
  private readonly handles = new Map<number, node.PollHandle>();

  /** Emits CURL_CSELECT_* bitmasks for `fd` while watching the CURL_POLL_* interest `interest` emits. */
  watch(fd: number, interest: Observable<number>): Observable<number> {
    return new Observable<number>((subscriber) => {
      let handle: node.PollHandle | undefined;
      let watched = -1;
      const onPoll = (status: number, events: PollEvents) => {
        if (status < 0) {
          // A poll error: let libcurl try the socket and learn what went wrong.
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
            handle ??= this.handles.get(fd);
            if (!options.readable && !options.writable) handle?.stop();
            else if (handle) handle.start(options, callback);
            else this.handles.set(fd, (handle = koffi.node.poll(fd, options, callback)));
          } catch {
            // libuv refused the fd: let libcurl try it and fail the transfer itself.
            queueMicrotask(() => subscriber.next(CURL_CSELECT_ERR));
          }
        },
        complete: () => subscriber.complete(),
      });
      return () => {
        watching.unsubscribe();
        handle?.stop();
      };
    });
  }

  /** The socket is about to be closed: close its poll handle, which takes the fd out of epoll. */
  socketClosed(fd: number): void {
    const handle = this.handles.get(fd);
    if (!handle) return;
    this.handles.delete(fd);
    handle.close();
  }

  get size(): number {
    return this.handles.size;
  }

  closeAll(): void {
    for (const handle of this.handles.values()) handle.close();
    this.handles.clear();
  }
}
