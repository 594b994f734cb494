/**
 * A binary heap: `peek()` is the item that comes `before` all others. Each item's position is
 * reported through `moved`, so an item that knows its position can be removed in O(log n).
 */
export class BinaryHeap<T> {
  private readonly items: T[] = [];

  constructor(
    private readonly before: (a: T, b: T) => boolean,
    private readonly moved: (item: T, index: number) => void = () => {},
  ) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    return this.items.length === 0 ? undefined : this.removeAt(0);
  }

  /** Removes the item at `index` (as last reported through `moved`). */
  removeAt(index: number): T {
    const items = this.items;
    const removed = items[index];
    const last = items.pop()!;
    if (index < items.length) {
      items[index] = last;
      this.moved(last, index);
      this.down(index);
      this.up(index);
    }
    return removed;
  }

  /** Removes every item `drop` picks; O(n). Returns how many went. */
  removeWhere(drop: (item: T) => boolean): number {
    const kept = this.items.filter((item) => !drop(item));
    const removed = this.items.length - kept.length;
    if (removed === 0) return 0;
    this.items.length = 0;
    for (const item of kept) this.push(item);
    return removed;
  }

  private up(index: number): void {
    const items = this.items;
    const item = items[index];
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(item, items[parent])) break;
      items[index] = items[parent];
      this.moved(items[index], index);
      index = parent;
    }
    items[index] = item;
    this.moved(item, index);
  }

  private down(index: number): void {
    const items = this.items;
    const item = items[index];
    const length = items.length;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && this.before(items[child + 1], items[child])) child++;
      if (!this.before(items[child], item)) break;
      items[index] = items[child];
      this.moved(items[index], index);
      index = child;
    }
    items[index] = item;
    this.moved(item, index);
  }
}
