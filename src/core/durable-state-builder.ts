import type { LogEntry } from "./log-entry.js";
import type { DurableRules, DurableState, PersistOp, SnapshotMeta } from "./protocol.js";
import type { Value } from "./value.js";

/**
 * Replays persist ops, in the order they were made durable, into the state a replica finds on
 * restart. Storage engines (the simulator's disk, the real WAL) both recover through this, so
 * they agree on what "append replaces the tail", "a snapshot compacts the log" and "put
 * replaces a record" mean. What is one protocol's (a gap-free log) comes from its DurableRules.
 */
export class DurableStateBuilder {
  private hardState: Value | undefined;
  private snapshot: { meta: SnapshotMeta; data: Uint8Array } | undefined;
  /** In increasing index order; gaps only if the rules allow them. */
  private entries: LogEntry[] = [];
  private readonly records = new Map<string, Value>();

  constructor(private readonly rules: DurableRules) {}

  apply(op: PersistOp): void {
    switch (op.type) {
      case "hardState":
        this.hardState = op.state;
        break;
      case "append": {
        const first = op.entries[0];
        if (!first) return;
        this.truncate(first.index);
        const last = this.lastIndex();
        if (first.index <= last) {
          // Only the snapshot can lie at or above the new entries here: they are already in it.
          throw new Error(`durable log: append at ${first.index} is covered by the snapshot`);
        }
        if (this.rules.gapFree && first.index !== last + 1) {
          throw new Error(`durable log: append at ${first.index} leaves a gap after ${last}`);
        }
        for (let i = 0; i < op.entries.length; i++) {
          const entry = op.entries[i]!;
          const ok = this.rules.gapFree
            ? entry.index === first.index + i
            : i === 0 || entry.index > op.entries[i - 1]!.index;
          if (!ok) {
            throw new Error(
              `durable log: append of ${this.rules.gapFree ? "non-contiguous" : "unordered"} entries`,
            );
          }
          this.entries.push(entry);
        }
        break;
      }
      case "truncate":
        this.truncate(op.from);
        break;
      case "snapshot": {
        if (this.snapshot && op.meta.index <= this.snapshot.meta.index) return;
        this.snapshot = { meta: op.meta, data: op.data };
        const keepFrom = op.meta.index + 1;
        const after = this.entries.filter((e) => e.index >= keepFrom);
        // A gap-free log keeps entries after the snapshot only if they continue it; otherwise
        // they belong to a history the snapshot replaced.
        this.entries = !this.rules.gapFree || after[0]?.index === keepFrom ? after : [];
        break;
      }
      case "put":
        this.records.set(op.key, op.value);
        break;
      case "delete":
        this.records.delete(op.key);
        break;
    }
  }

  /** The stored entry at `index`, if any. */
  entryAt(index: number): LogEntry | undefined {
    const at = this.position(index);
    const entry = this.entries[at];
    return entry?.index === index ? entry : undefined;
  }

  private lastIndex(): number {
    return this.entries.at(-1)?.index ?? this.snapshot?.meta.index ?? 0;
  }

  /** First position whose entry index is ≥ index (binary search: entries are sorted). */
  private position(index: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.index < index) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private truncate(from: number): void {
    if (this.entries.length === 0) return;
    this.entries.length = this.position(from);
  }

  build(): DurableState {
    const records = new Map(
      [...this.records].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    );
    return {
      hardState: this.hardState,
      snapshot: this.snapshot,
      entries: [...this.entries],
      records,
    };
  }
}
