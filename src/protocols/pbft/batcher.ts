import { toHex } from "../../core/crypto.js";
import type { Digest } from "./messages.js";

/**
 * The primary's request queue and batching (OSDI'99 §5.1.4 / TOCS §5.1): requests wait here
 * until the primary may assign a sequence number, then leave in batches bounded by count and by
 * bytes. Pipelining: several batches may be in flight (pre-prepared, not yet committed), bounded
 * by `maxInFlight` and by the high water mark (seq ≤ h + L). As in Castro's library, batching is
 * self-clocking: while the pipeline is full, requests accumulate into larger batches.
 */

export interface BatchLimits {
  /** Requests per batch. */
  readonly maxRequests: number;
  /** Total request bytes per batch; a single request must fit. */
  readonly maxBytes: number;
  /** Requests waiting in the queue; more are refused ("queue-full"). */
  readonly maxQueued: number;
  /** Batches pre-prepared and not yet committed at once. */
  readonly maxInFlight: number;
}

export type EnqueueRefusal = "queue-full" | "duplicate" | "too-large";

export interface Proposal<T> {
  readonly seq: number;
  readonly items: readonly T[];
  readonly bytes: number;
}

interface Queued<T> {
  readonly key: string;
  readonly item: T;
  readonly size: number;
}

export class Batcher<T> {
  private queue: Queued<T>[] = [];
  private head = 0;
  private readonly keys = new Set<string>();

  /**
   * `alone` marks items that must travel in a batch of their own (PBFT: access changes, which the
   * replicated service logs as an entry of their own).
   */
  constructor(
    private readonly limits: BatchLimits,
    private readonly alone: (item: T) => boolean = () => false,
  ) {
    for (const [name, v] of Object.entries(limits)) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be ≥ 1, got ${v}`);
    }
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  enqueue(
    digest: Digest,
    size: number,
    item: T,
  ): { accepted: true } | { accepted: false; reason: EnqueueRefusal } {
    const key = toHex(digest);
    if (this.keys.has(key)) return { accepted: false, reason: "duplicate" };
    if (size > this.limits.maxBytes) return { accepted: false, reason: "too-large" };
    if (this.queued >= this.limits.maxQueued) return { accepted: false, reason: "queue-full" };
    this.keys.add(key);
    this.queue.push({ key, item, size });
    return { accepted: true };
  }

  /** Whether a request is waiting here (the primary need not queue a retransmission). */
  has(digest: Digest): boolean {
    return this.keys.has(toHex(digest));
  }

  /** Drop requests ordered some other way (e.g. re-issued in a NEW-VIEW, or executed). */
  remove(digests: Iterable<Digest>): void {
    const gone = new Set<string>();
    for (const d of digests) {
      const key = toHex(d);
      if (this.keys.delete(key)) gone.add(key);
    }
    if (gone.size === 0) return;
    this.queue = this.queue.slice(this.head).filter((q) => !gone.has(q.key));
    this.head = 0;
  }

  /**
   * Whether the primary may propose at `nextSeq` now: inside the water marks and with room in
   * the pipeline. Pure, so the orchestrator can also use it to decide when to flush.
   */
  canPropose(nextSeq: number, highWaterMark: number, inFlight: number): boolean {
    return nextSeq <= highWaterMark && inFlight < this.limits.maxInFlight;
  }

  /**
   * The next batch for `nextSeq` (FIFO, at least one request, then as many as fit the count and
   * byte limits), or undefined if the queue is empty or canPropose says no.
   */
  nextBatch(nextSeq: number, highWaterMark: number, inFlight: number): Proposal<T> | undefined {
    if (this.queued === 0 || !this.canPropose(nextSeq, highWaterMark, inFlight)) return undefined;
    const items: T[] = [];
    let bytes = 0;
    while (this.head < this.queue.length && items.length < this.limits.maxRequests) {
      const next = this.queue[this.head]!;
      if (items.length > 0 && bytes + next.size > this.limits.maxBytes) break;
      const single = this.alone(next.item);
      if (items.length > 0 && single) break;
      items.push(next.item);
      bytes += next.size;
      this.keys.delete(next.key);
      this.head++;
      if (single) break;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return { seq: nextSeq, items, bytes };
  }
}
