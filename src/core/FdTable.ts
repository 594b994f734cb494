/**
 * Values by file descriptor, in an array indexed by fd (small integers, the lowest free one reused
 * first), as libuv keeps its watchers: no Map, whose hash table the churn of short-lived connections
 * would keep replacing, keeping every connection's objects alive until a major GC (see DenseList).
 */
export class FdTable<T> {
  private readonly items: (T | undefined)[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(fd: number): T | undefined {
    return this.items[fd];
  }

  has(fd: number): boolean {
    return this.items[fd] !== undefined;
  }

  set(fd: number, value: T): void {
    if (this.items[fd] === undefined) this.count++;
    this.items[fd] = value;
  }

  delete(fd: number): boolean {
    if (this.items[fd] === undefined) return false;
    this.items[fd] = undefined;
    this.count--;
    return true;
  }

  /** Empties the table; returns what it held. */
  clear(): T[] {
    const values = this.items.filter((value): value is T => value !== undefined);
    this.items.length = 0;
    this.count = 0;
    return values;
  }
}
