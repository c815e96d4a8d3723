/**
 * A bounded queue of encoded messages waiting for a socket. When full it drops the oldest:
 * lockstep's protocols retry what matters, and the newest message is the most useful one
 * (a newer heartbeat, a newer append carrying everything the older ones did). Age is bounded
 * too: a message older than `maxAgeMs` is dropped (`expire()`, run on every push and before
 * every write), so a link that comes back after a partition sends what is current, not a
 * backlog of stale heartbeats ahead of it.
 */
export interface QueueLimits {
  /** Total message bytes held (default 64 MiB). A single larger message is still accepted alone. */
  readonly maxBytes: number;
  /** Messages held (default 10,000). */
  readonly maxMessages: number;
  /** Milliseconds a message may wait before it is dropped as stale (default 5,000). */
  readonly maxAgeMs?: number;
}

export const defaultQueueLimits: QueueLimits = {
  maxBytes: 64 * 1024 * 1024,
  maxMessages: 10_000,
  maxAgeMs: 5_000,
};

export class SendQueue {
  private items: (Uint8Array | undefined)[] = [];
  /** When each item was pushed (same indexes as items). */
  private times: number[] = [];
  private head = 0;
  private heldBytes = 0;

  constructor(
    readonly limits: QueueLimits = defaultQueueLimits,
    /** Called once per message dropped because the queue was full (or cleared). */
    private readonly onDrop: (message: Uint8Array) => void = () => {},
    /** Called once per message dropped for its age; onDrop when not given. */
    private readonly onExpire: (message: Uint8Array) => void = onDrop,
    /** The clock ages are measured with (milliseconds). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** Drops messages older than `maxAgeMs` (oldest first); returns how many. */
  expire(): number {
    const maxAge = this.limits.maxAgeMs;
    if (maxAge === undefined || this.length === 0) return 0;
    const cutoff = this.now() - maxAge;
    let n = 0;
    while (this.length > 0 && this.times[this.head]! < cutoff) {
      this.onExpire(this.shift()!);
      n++;
    }
    return n;
  }

  /** Appends, first dropping stale messages and then the oldest until the new one fits. */
  push(message: Uint8Array): void {
    this.expire();
    while (
      this.length > 0 &&
      (this.length + 1 > this.limits.maxMessages ||
        this.heldBytes + message.length > this.limits.maxBytes)
    ) {
      const dropped = this.shift()!;
      this.onDrop(dropped);
    }
    this.items.push(message);
    this.times.push(this.now());
    this.heldBytes += message.length;
  }

  /** The oldest message, without removing it. */
  peek(): Uint8Array | undefined {
    return this.items[this.head];
  }

  shift(): Uint8Array | undefined {
    if (this.head >= this.items.length) return undefined;
    const message = this.items[this.head]!;
    this.items[this.head++] = undefined;
    this.heldBytes -= message.length;
    if (this.head === this.items.length) {
      this.items = [];
      this.times = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return message;
  }

  /** Empties the queue, reporting every message as dropped; returns how many there were. */
  clear(): number {
    const n = this.length;
    for (let m = this.shift(); m; m = this.shift()) this.onDrop(m);
    return n;
  }
}
