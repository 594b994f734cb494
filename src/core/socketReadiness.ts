import { Observable, Subject, type Subscription } from 'rxjs';
import { FdTable } from './FdTable.js';
import { CURL_POLL_NONE, CURL_POLL_REMOVE } from './socketEvents.js';

/** The driver's readiness of one fd, for the CURL_POLL_* interest `interest` emits (MultiDriver.readiness). */
type Readiness = (fd: number, interest: Observable<number>) => Observable<number>;

/**
 * libcurl's socket requests (fd * 8 + CURL_POLL_*) as readiness: one readiness Observable per
 * announced fd, fed the fd's interest and ended by CURL_POLL_REMOVE, all merged into one stream of
 * actions, fd * 8 + CURL_CSELECT_*. A REMOVE for an unknown fd, or a second one, is nothing; an fd
 * number that comes back gets a new watch.
 *
 * The same as `groupBy(fd)` with a `takeWhile`/`map` per group and `mergeMap`, with one Subject and
 * one subscription per socket instead of a group, its duration subscription and three operators:
 * every transfer's socket requests pass here, and a watch lives as long as its connection.
 * `watched` hears +1 or -1 as a socket starts or stops being wanted for something (an idle
 * keep-alive connection stays watched with interest CURL_POLL_NONE until it is closed).
 */
export function socketReadiness(
  requests: Observable<number>,
  readiness: Readiness,
  watched: (delta: 1 | -1) => void,
): Observable<number> {
  return new Observable<number>((subscriber) => {
    const watches = new FdTable<SocketWatch>();
    const emit = (action: number) => subscriber.next(action);
    const listening = requests.subscribe((request) => {
      const fd = request >> 3;
      const what = request & 7;
      let watch = watches.get(fd);
      if (what === CURL_POLL_REMOVE) {
        if (watch) {
          watches.delete(fd);
          watch.end();
        }
        return;
      }
      if (!watch) {
        watch = new SocketWatch(fd, readiness, emit, watched);
        watches.set(fd, watch);
      }
      watch.want(what);
    });
    return () => {
      listening.unsubscribe();
      for (const watch of watches.clear()) watch.end();
    };
  });
}

/** One fd's readiness: its interest in, its actions out. */
class SocketWatch {
  private readonly interest = new Subject<number>();
  private readonly watching: Subscription;
  private counted = false;

  constructor(
    fd: number,
    readiness: Readiness,
    emit: (action: number) => void,
    private readonly watched: (delta: 1 | -1) => void,
  ) {
    this.watching = readiness(fd, this.interest).subscribe((events) => emit(fd * 8 + events));
  }

  want(what: number): void {
    this.count(what !== CURL_POLL_NONE);
    this.interest.next(what);
  }

  end(): void {
    this.count(false);
    this.interest.complete();
    this.watching.unsubscribe();
  }

  private count(wanted: boolean): void {
    if (wanted === this.counted) return;
    this.counted = wanted;
    this.watched(wanted ? 1 : -1);
  }
}
