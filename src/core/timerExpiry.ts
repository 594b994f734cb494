import { asyncScheduler, Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { MAX_TIMER_MS } from './maxTimerMs.js';

/**
 * libcurl's one timer as an Observable: each request (CURLMOPT_TIMERFUNCTION's milliseconds)
 * replaces the pending expiry; -1 deletes it, 0 expires on the event loop's next turn, n after n ms.
 * It emits once per expiry.
 *
 * The same as `switchMap` over timers, without an Observable and a subscription per request: a
 * transfer asks for the timer about once, so this is on every transfer's path. On the default
 * scheduler 0 is setImmediate, not setTimeout(0), which Node rounds up to 1 ms; any other scheduler
 * (a TestScheduler) keeps its own notion of time. Node's timers cannot wait longer than
 * MAX_TIMER_MS (a longer one fires after 1 ms); libcurl may ask for more through curlOptions, so
 * longer waits are cut there: firing early is harmless, libcurl arms the rest again.
 */
export function timerExpiry(requests: Observable<number>, scheduler: SchedulerLike): Observable<void> {
  return new Observable<void>((subscriber) => {
    let scheduled: Subscription | undefined;
    let immediate: ReturnType<typeof setImmediate> | undefined;
    const expire = () => {
      scheduled = undefined;
      immediate = undefined;
      subscriber.next();
    };
    const cancel = () => {
      if (scheduled) {
        scheduled.unsubscribe();
        scheduled = undefined;
      }
      if (immediate) {
        clearImmediate(immediate);
        immediate = undefined;
      }
    };
    const watching = requests.subscribe((ms) => {
      // Each transfer added asks for 0: one expiry on the next turn already serves them all.
      if (ms === 0 && immediate !== undefined) return;
      cancel();
      if (ms < 0) return;
      if (ms === 0 && scheduler === asyncScheduler) immediate = setImmediate(expire);
      else scheduled = scheduler.schedule(expire, Math.min(ms, MAX_TIMER_MS));
    });
    return () => {
      watching.unsubscribe();
      cancel();
    };
  });
}
