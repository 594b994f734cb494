/**
 * One 'abort' listener per AbortSignal, however many transfers share it. A listener per transfer
 * would make Node warn (MaxListenersExceededWarning) as soon as a crawler passes one signal to
 * more than ten transfers, and costs an EventTarget entry each.
 */
export class AbortListeners {
  private readonly bySignal = new WeakMap<AbortSignal, Set<() => void>>();

  /** Calls `onAbort` once when `signal` aborts; the returned function stops listening. */
  add(signal: AbortSignal, onAbort: () => void): () => void {
    const listeners = this.bySignal.get(signal) ?? this.listen(signal);
    listeners.add(onAbort);
    return () => listeners.delete(onAbort);
  }

  private listen(signal: AbortSignal): Set<() => void> {
    const listeners = new Set<() => void>();
    this.bySignal.set(signal, listeners);
    const onAbort = () => {
      this.bySignal.delete(signal);
      for (const listener of [...listeners]) listener();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return listeners;
  }
}
