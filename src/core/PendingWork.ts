/**
 * Asynchronous work a Curl's `close()` waits for: a file of a transfer cancelled just before,
 * still being closed or removed. One per Curl, so closing one waits for its own files only.
 */
export class PendingWork {
  private readonly running = new Set<Promise<void>>();

  /** Tracks `work` until it settles; its outcome is the caller's to handle. */
  add(work: Promise<unknown>): void {
    const forget = () => {
      this.running.delete(tracked);
    };
    const tracked = work.then(forget, forget);
    this.running.add(tracked);
  }

  /** Resolves once everything added so far has settled. */
  settled(): Promise<void> {
    return Promise.all(this.running).then(() => undefined);
  }
}
