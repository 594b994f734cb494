import type { ExecutionContext } from 'ava';
import { TestScheduler } from 'rxjs/testing';

/** A TestScheduler whose marble assertions are ava's deepEqual. */
export function marbles(t: ExecutionContext): TestScheduler {
  return new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
}
