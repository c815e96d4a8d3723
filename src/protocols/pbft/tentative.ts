import type { ClientId } from "../../core/ids.js";
import type { LogEntry } from "../../core/log-entry.js";
import type { SnapshotMeta } from "../../core/protocol.js";
import type { Digest, Request } from "./messages.js";

/**
 * Tentative execution (OSDI'99 §5.1.2, TOCS §5.1.2): a replica executes the batch at slot s once
 * s is prepared and every slot below it has committed and executed, and replies at once with
 * `tentative: true`; the client then needs 2f+1 matching replies. At most one slot is tentative
 * at a time and nothing above it executes until it commits. If a view change binds s to another
 * batch, the replica undoes the execution.
 *
 * Undoing needs no savepoint per batch: the replica restores the newest snapshot of committed
 * state it holds (its stable checkpoint's, or the empty state of seq 0) and executes again the
 * committed entries above it, which it keeps here (`RollbackPoint`). They are kept as the
 * `LogEntry`s it applied, not looked up in the slot log: a view change drops the slot log's
 * pre-prepares of the old view, and the request store may have let bodies go.
 */

/** The batch this replica executed tentatively and has not seen commit. */
export interface TentativeSlot {
  readonly seq: number;
  /** The batch digest it executed; it becomes final only if this digest commits at `seq`. */
  readonly digest: Digest;
  /** The entry handed to the service (confirmed later by applying it again, committed). */
  readonly entry: LogEntry;
  readonly requests: readonly Request[];
  /** The persist of the slot's prepared certificate: tentative replies wait for it (§4.2). */
  readonly after: number;
  /** Replies cached for retransmission that came from this execution (dropped on rollback). */
  readonly replied: { readonly client: ClientId; readonly timestamp: number }[];
}

/** Committed entries kept above the snapshot before the replica stops executing tentatively. */
const maxRedoEntries = 1 << 12;

/**
 * The committed state a rollback returns to: a snapshot of committed state and the committed
 * entries executed after it, in order. The entries above the snapshot are gap-free, so restoring
 * the snapshot and applying them gives exactly the state after the last committed execution.
 */
export class RollbackPoint {
  private base: { readonly meta: SnapshotMeta; readonly data: Uint8Array } | undefined;
  private redo: LogEntry[] = [];

  /** A snapshot of committed state at `meta.index`: entries at or below it are no longer needed. */
  setBase(meta: SnapshotMeta, data: Uint8Array): void {
    if (this.base && this.base.meta.index > meta.index) return;
    this.base = { meta, data };
    this.redo = this.redo.filter((e) => e.index > meta.index);
    // Entries that do not continue the snapshot (it came from state transfer, past them) go.
    if (this.redo.length > 0 && this.redo[0]!.index !== meta.index + 1) this.redo = [];
  }

  /** A committed entry was executed (after every one before it). */
  committed(entry: LogEntry): void {
    if (!this.base || entry.index <= this.base.meta.index) return;
    const last = this.redo.at(-1)?.index ?? this.base.meta.index;
    if (entry.index !== last + 1 || this.redo.length >= maxRedoEntries) {
      // Cannot reach this entry from the snapshot any more: no rollback until the next base.
      this.base = undefined;
      this.redo = [];
      return;
    }
    this.redo.push(entry);
  }

  /** Whether the state after executing `lastExecuted` can be rebuilt (so a slot above may run tentatively). */
  canRestore(lastExecuted: number): boolean {
    if (!this.base) return false;
    return (this.redo.at(-1)?.index ?? this.base.meta.index) === lastExecuted;
  }

  /** The snapshot and the entries to apply after it to get back to `lastExecuted`. */
  restore(lastExecuted: number): {
    readonly meta: SnapshotMeta;
    readonly data: Uint8Array;
    readonly entries: readonly LogEntry[];
  } {
    if (!this.base || !this.canRestore(lastExecuted)) {
      throw new Error(`invariant: no committed state to roll back to at ${lastExecuted}`);
    }
    return { meta: this.base.meta, data: this.base.data, entries: [...this.redo] };
  }

  get baseIndex(): number | undefined {
    return this.base?.meta.index;
  }
}

/** What an `applied` input answers: the core emits one `apply` output per mark, in order. */
export type AppliedKind =
  /** A committed batch: reply to its clients. */
  | "committed"
  /** A tentative batch: reply tentatively, unless it committed or was undone meanwhile. */
  | "tentative"
  /** A tentative batch made final, or committed batches executed again after a rollback: nothing to say. */
  | "silent";

/**
 * One mark per `apply` output the core made, in order: the driver feeds exactly one `applied`
 * input per `apply` output (ReplicaNode), so the front mark says what the next `applied` is for.
 */
export class AppliedMarks {
  private readonly marks: { kind: AppliedKind; seq: number }[] = [];

  push(kind: AppliedKind, seq: number): void {
    this.marks.push({ kind, seq });
  }

  /** The mark of the next `applied` input; undefined (a driver that fed more) counts as committed. */
  shift(): { readonly kind: AppliedKind; readonly seq: number } | undefined {
    return this.marks.shift();
  }

  /** A rollback or state transfer undid the tentative execution: its results must not be sent. */
  silenceTentative(): void {
    for (const m of this.marks) if (m.kind === "tentative") m.kind = "silent";
  }
}
