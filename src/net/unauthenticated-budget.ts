/** What to do with a held connection when its slot is taken away. */
type Closer = () => void;

interface Slot {
  readonly source: string;
  close: Closer;
}

/** Why a slot was taken away (the transport counts it). */
export type EvictionReason = "refusedPerAddressBudget" | "refusedUnauthenticatedBudget";

/**
 * The slots of inbound connections that have not authenticated yet (a TLS handshake included),
 * at most `total` at once and `perSource` per source address. A newcomer that finds a budget full
 * takes the slot of the oldest holder (of its own address when the per-address cap is what is
 * full, else of anyone), whose connection is closed: a dialer that holds a key leaves the budget
 * within a round trip, an idle stranger never does. Slots are named by "address|port", which is
 * the same for a TLS socket and the TCP socket under it.
 */
export class UnauthenticatedBudget {
  /** Slots, oldest first. */
  private readonly slots = new Map<string, Slot>();
  private readonly bySource = new Map<string, Set<string>>();

  constructor(
    readonly total: number,
    readonly perSource: number,
    private readonly onEvict: (reason: EvictionReason) => void,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  /**
   * Holds a slot for `key`, closing the oldest holder if a budget is full. Holding a key that is
   * held already (the TLS socket after its TCP socket) keeps its place and replaces its closer.
   */
  hold(key: string, source: string, close: Closer): void {
    const held = this.slots.get(key);
    if (held) {
      held.close = close;
      return;
    }
    const mine = this.bySource.get(source) ?? new Set<string>();
    this.bySource.set(source, mine);
    if (mine.size >= this.perSource) {
      this.evict(mine.values().next().value!, "refusedPerAddressBudget");
    } else if (this.slots.size >= this.total) {
      this.evict(this.slots.keys().next().value!, "refusedUnauthenticatedBudget");
    }
    this.slots.set(key, { source, close });
    mine.add(key);
  }

  /** Frees `key`'s slot (it authenticated or closed); a no-op when it holds none. */
  release(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    const mine = this.bySource.get(slot.source);
    mine?.delete(key);
    if (mine?.size === 0) this.bySource.delete(slot.source);
  }

  private evict(key: string, reason: EvictionReason): void {
    const slot = this.slots.get(key)!;
    this.release(key);
    this.onEvict(reason);
    slot.close();
  }
}

/** The slot name of a socket, or undefined when it is already closed (no address left). */
export function slotKey(socket: {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}): string | undefined {
  return socket.remoteAddress === undefined || socket.remotePort === undefined
    ? undefined
    : `${socket.remoteAddress}|${socket.remotePort}`;
}
