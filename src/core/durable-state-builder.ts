import type { LogEntry } from "./log-entry.js";
import type { DurableState, PersistOp, SnapshotMeta } from "./protocol.js";
import type { Value } from "./value.js";

/**
 * Replays persist ops, in the order they were made durable, into the state a replica finds on
 * restart. Storage engines (the simulator's disk, the real WAL) both recover through this, so
 * they agree on what "append replaces the tail" and "a snapshot compacts the log" mean.
 */
export class DurableStateBuilder {
  private hardState: Value | undefined;
  private snapshot: { meta: SnapshotMeta; data: Uint8Array } | undefined;
  private entries: LogEntry[] = [];

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
        if (first.index !== last + 1) {
          throw new Error(`durable log: append at ${first.index} leaves a gap after ${last}`);
        }
        for (let i = 0; i < op.entries.length; i++) {
          if (op.entries[i]!.index !== first.index + i)
            throw new Error("durable log: append of non-contiguous entries");
          this.entries.push(op.entries[i]!);
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
        // Keep entries after the snapshot only if they continue it; otherwise the log is stale.
        const after = this.entries.filter((e) => e.index >= keepFrom);
        this.entries = after[0]?.index === keepFrom ? after : [];
        break;
      }
    }
  }

  private lastIndex(): number {
    return this.entries.at(-1)?.index ?? this.snapshot?.meta.index ?? 0;
  }

  private truncate(from: number): void {
    const base = this.entries[0]?.index;
    if (base === undefined) return;
    if (from <= base) this.entries = [];
    else this.entries.length = Math.min(this.entries.length, from - base);
  }

  build(): DurableState {
    return { hardState: this.hardState, snapshot: this.snapshot, entries: [...this.entries] };
  }
}
