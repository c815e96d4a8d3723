/** A bounded first-in-first-out buffer: pushing past `capacity` drops the oldest item. */
export class Ring<T> {
  private readonly items: T[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
  }

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  get size(): number {
    return this.items.length;
  }

  /** Oldest first. */
  toArray(): T[] {
    return [...this.items];
  }

  /** The newest `n` items, oldest first. */
  last(n: number): T[] {
    return this.items.slice(Math.max(0, this.items.length - n));
  }
}
