/**
 * A bounded queue of encoded messages waiting for a socket. When full it drops the oldest:
 * lockstep's protocols retry what matters, and the newest message is the most useful one
 * (a newer heartbeat, a newer append carrying everything the older ones did).
 */
export interface QueueLimits {
  /** Total message bytes held (default 64 MiB). A single larger message is still accepted alone. */
  readonly maxBytes: number;
  /** Messages held (default 10,000). */
  readonly maxMessages: number;
}

export const defaultQueueLimits: QueueLimits = { maxBytes: 64 * 1024 * 1024, maxMessages: 10_000 };

export class SendQueue {
  private items: (Uint8Array | undefined)[] = [];
  private head = 0;
  private heldBytes = 0;

  constructor(
    readonly limits: QueueLimits = defaultQueueLimits,
    /** Called once per dropped message. */
    private readonly onDrop: (message: Uint8Array) => void = () => {},
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** Appends, first dropping the oldest messages until the new one fits. */
  push(message: Uint8Array): void {
    while (
      this.length > 0 &&
      (this.length + 1 > this.limits.maxMessages ||
        this.heldBytes + message.length > this.limits.maxBytes)
    ) {
      const dropped = this.shift()!;
      this.onDrop(dropped);
    }
    this.items.push(message);
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
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
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
