import { Observable } from 'rxjs';
import { CURL_CSELECT_ERR } from '../core/socketEvents.js';

/**
 * Sockets without a network: fd numbers handed out lowest first and reused, as a system does, and
 * readiness that a test or the scripted transport signals by hand.
 */
export class FakeSockets {
  private readonly open = new Set<number>();
  private readonly listeners = new Map<number, (events: number) => void>();

  /** Called whenever the interest watched on an fd changes, or its watch ends ('closed'). */
  onWatch: ((fd: number, interest: number | 'closed') => void) | undefined = undefined;

  allocate(): number {
    let fd = 3;
    while (this.open.has(fd)) fd++;
    this.open.add(fd);
    return fd;
  }

  free(fd: number): void {
    this.open.delete(fd);
  }

  /** `fd` became ready; its watcher hears of it if it watches for those events (errors always). */
  ready(fd: number, events: number): void {
    this.listeners.get(fd)?.(events);
  }

  /** Readiness of `fd` as CURL_CSELECT_* bits, for the CURL_POLL_* interest `interest` emits. */
  readiness(fd: number, interest: Observable<number>): Observable<number> {
    return new Observable<number>((subscriber) => {
      let watched = 0;
      // CURL_POLL_IN and CURL_POLL_OUT line up with CURL_CSELECT_IN and CURL_CSELECT_OUT.
      const onReady = (events: number) => {
        if ((events & watched) !== 0 || (events & CURL_CSELECT_ERR) !== 0) subscriber.next(events);
      };
      const watching = interest.subscribe({
        next: (what) => {
          if (what === watched) return;
          watched = what;
          this.onWatch?.(fd, what);
          this.listeners.set(fd, onReady);
        },
        complete: () => subscriber.complete(),
      });
      return () => {
        watching.unsubscribe();
        if (watched !== 0) {
          if (this.listeners.get(fd) === onReady) this.listeners.delete(fd);
          this.onWatch?.(fd, 'closed');
        }
      };
    });
  }
}
