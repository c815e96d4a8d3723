/**
 * The search's memo: a set of strings that may grow past what one JavaScript Set holds (V8
 * throws "RangeError: Set maximum size exceeded" at 2^24 entries). Entries go into the newest
 * shard; when it is full a new shard starts. A check's default `maxVisited` stays well below
 * one shard, so the common path is a single Set lookup.
 */

/** Entries per shard: below V8's 2^24 limit for a Set. */
export const DEFAULT_SHARD_SIZE = 1 << 23;

export class ShardedStringSet {
  private readonly shards: Set<string>[];
  private newest: Set<string>;
  private count = 0;

  constructor(private readonly shardSize: number = DEFAULT_SHARD_SIZE) {
    if (!Number.isInteger(shardSize) || shardSize < 1 || shardSize > DEFAULT_SHARD_SIZE) {
      throw new RangeError(`shard size must be an integer in 1..${DEFAULT_SHARD_SIZE}`);
    }
    this.newest = new Set();
    this.shards = [this.newest];
  }

  get size(): number {
    return this.count;
  }

  get shardCount(): number {
    return this.shards.length;
  }

  has(key: string): boolean {
    if (this.newest.has(key)) return true;
    // Older shards are consulted only once the first one has filled up.
    for (let s = this.shards.length - 2; s >= 0; s--) if (this.shards[s]!.has(key)) return true;
    return false;
  }

  /** Adds a key known to be absent (callers check `has` first). */
  addNew(key: string): void {
    if (this.newest.size >= this.shardSize) {
      this.newest = new Set();
      this.shards.push(this.newest);
    }
    this.newest.add(key);
    this.count++;
  }
}
