import { asyncScheduler, Observable, type SchedulerLike, timer } from 'rxjs';

/**
 * Emits once on the event loop's next turn. On the default scheduler that is setImmediate,
 * not setTimeout(0), which Node rounds up to 1 ms; any other scheduler (a TestScheduler)
 * keeps its own notion of time.
 */
export function nextTurn(scheduler: SchedulerLike): Observable<unknown> {
  if (scheduler !== asyncScheduler) return timer(0, scheduler);
  return new Observable<void>((subscriber) => {
    const handle = setImmediate(() => {
      subscriber.next();
      subscriber.complete();
    });
    return () => clearImmediate(handle);
  });
}
