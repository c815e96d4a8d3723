import { concatBytes } from "../core/bytes.js";
import type { Random } from "../core/prng.js";
import type { DurableRules, DurableState, PersistOp, SnapshotMeta } from "../core/protocol.js";
import type { Value } from "../core/value.js";
import { StorageCorruptionError } from "../durable/errors.js";
import { parseSnapshotFileName, segmentFileName, snapshotFileName } from "../durable/file-names.js";
import { recoverSync } from "../durable/recovery.js";
import type { RecoveryReport } from "../durable/recovery-report.js";
import { encodeSnapshotFile } from "../durable/snapshot-file.js";
import { encodeWalRecord, maxAppendedIndex, toWalOp, type WalOp } from "../durable/wal-record.js";

interface SimRecord {
  readonly sequence: number;
  /** The persist id this record carries (0 for a segment checkpoint). */
  readonly id: number;
  readonly ops: readonly WalOp[];
}

interface SimSegment {
  readonly seq: number;
  readonly records: SimRecord[];
  maxEntryIndex: number;
}

/** How a disk lays out its log (drawn per seed, so compaction happens at different points). */
export interface SimDiskLayout {
  /** Start a new segment once the active one holds this many records (FileStorage: bytes). */
  readonly segmentRecords: number;
  /** Snapshot files kept (FileStorage's keepSnapshots). */
  readonly keepSnapshots: number;
}

/** What recovery did at one restart, for the simulator's statistics and trace. */
export interface SimRecovery {
  readonly state: DurableState;
  readonly report: RecoveryReport;
  /** A snapshot file had rotted and recovery refused the directory (it was then repaired). */
  readonly refused: string | undefined;
}

/**
 * A replica's simulated disk, laid out as FileStorage lays out a directory: WAL segments of
 * records (each segment starts with a checkpoint of the hard state and the keyed records),
 * snapshot files that a WAL record commits, compaction that deletes the segments and snapshot
 * files the oldest kept snapshot covers. A restart runs the real recovery (src/durable) on the
 * bytes of those files, so torn tails, floor clipping and snapshot fallback meet simulated
 * crashes.
 *
 * A record is durable once a sync that started after it was written completes. A process crash
 * keeps what was written (the OS survives); a machine crash keeps the synced records plus a
 * random byte prefix of the unsynced ones, which may cut the last record anywhere (a torn
 * write). Records stay objects until a restart needs their bytes, which keeps the common path
 * fast.
 */
export class SimDisk {
  private segments: SimSegment[] = [];
  /** Snapshot files by index; each holds its meta and data (encoded when recovery reads it). */
  private snapshotFiles = new Map<number, { meta: SnapshotMeta; data: Uint8Array }>();
  /** Bytes that survived a machine crash past the synced records of the last segment. */
  private tail: Uint8Array | undefined;
  /** Snapshot files whose bytes rotted (a latent sector error), read back corrupt. */
  private rotten = new Set<number>();
  private nextSequence = 1;
  private writtenSequence = 0;
  /** The highest persist id written (ids restart with each incarnation, after `recover`). */
  private writtenId = 0;
  private syncedSequence = 0;
  private syncedId = 0;
  /** Hard state and keyed records as of the last record written: what a checkpoint holds. */
  private hardState: Value | undefined;
  private records = new Map<string, Value>();
  /** Committed snapshots kept, oldest first (index and the sequence of their WAL record). */
  private retained: { index: number; sequence: number }[] = [];
  /** Snapshots written but whose record is not yet durable. */
  private committing: { index: number; sequence: number }[] = [];
  syncInFlight = false;
  syncs = 0;
  tornTails = 0;
  writes = 0;
  segmentsDeleted = 0;

  constructor(
    private readonly rules: DurableRules,
    private readonly layout: SimDiskLayout,
  ) {}

  write(id: number, ops: readonly PersistOp[]): void {
    const walOps: WalOp[] = [];
    const sequence = this.nextSequence + (this.needsCheckpoint() ? 1 : 0);
    for (const op of ops) {
      if (op.type === "snapshot") {
        const newest = this.committing.at(-1)?.index ?? this.retained.at(-1)?.index ?? 0;
        if (op.meta.index <= newest) continue; // as FileStorage: older snapshots are ignored
        // FileStorage writes and syncs the file before the WAL record that commits it.
        this.snapshotFiles.set(op.meta.index, { meta: op.meta, data: op.data });
        this.rotten.delete(op.meta.index);
        this.committing.push({ index: op.meta.index, sequence });
      }
      walOps.push(toWalOp(op));
    }
    this.append(id, walOps);
    this.writes++;
  }

  get pending(): boolean {
    return this.syncedSequence < this.writtenSequence;
  }

  /** Starts a sync: returns what it will cover, to be completed with `completeSync`. */
  beginSync(): { count: number; id: number } {
    this.syncInFlight = true;
    this.syncs++;
    return { count: this.writtenSequence, id: this.writtenId };
  }

  completeSync(cover: { count: number; id: number }): number {
    this.syncInFlight = false;
    if (cover.count > this.syncedSequence) this.syncedSequence = cover.count;
    if (cover.id > this.syncedId) this.syncedId = cover.id;
    this.compact();
    return this.syncedId;
  }

  /** What survives a crash. `machine`: unsynced bytes may be lost and the tail torn. */
  crash(machine: boolean, random: Random, rot: boolean): void {
    this.syncInFlight = false;
    if (!machine) return;
    const active = this.segments.at(-1);
    if (active) {
      const keep = active.records.filter((r) => r.sequence <= this.syncedSequence);
      const unsynced = active.records
        .filter((r) => r.sequence > this.syncedSequence)
        .map((r) => encodeWalRecord(r.sequence, r.ops));
      active.records.length = 0;
      active.records.push(...keep);
      const total = unsynced.reduce((n, r) => n + r.length, 0);
      if (total > 0) {
        // Writes reach the disk in order here; keeping a byte prefix models a torn last record.
        const kept = random.int(total + 1);
        const bytes = new Uint8Array(kept);
        let at = 0;
        for (const r of unsynced) {
          if (at >= kept) break;
          const part = r.subarray(0, Math.min(r.length, kept - at));
          if (part.length < r.length) this.tornTails++;
          bytes.set(part, at);
          at += part.length;
        }
        this.tail = bytes;
      }
    }
    // A latent sector error in the newest committed snapshot file: recovery must fall back to an
    // older one (if the log covers the lost one) or refuse.
    const newest = this.retained.at(-1);
    if (rot && newest && this.retained.length > 1) this.rotten.add(newest.index);
  }

  /**
   * Restarts from the disk: runs the real recovery on the files' bytes and then lays the disk
   * out afresh as one segment whose first record holds exactly the recovered state (as a
   * restarted FileStorage would continue after cutting the torn tail, only shorter).
   */
  recover(): SimRecovery {
    let refused: string | undefined;
    let recovered: ReturnType<typeof recoverSync>;
    try {
      recovered = recoverSync(this.source(), this.rules);
    } catch (error) {
      if (!(error instanceof StorageCorruptionError) || this.rotten.size === 0) throw error;
      // Recovery refused because a snapshot it needs rotted: that is the right answer. An
      // operator would restore the file from a backup; do that and recover again.
      refused = error.message;
      this.rotten.clear();
      recovered = recoverSync(this.source(), this.rules);
    }
    this.rotten.clear();
    const state = recovered.state;
    this.rewrite(state);
    return { state, report: recovered.report, refused };
  }

  private source() {
    const names = [
      ...this.segments.map((s) => segmentFileName(s.seq)),
      ...[...this.snapshotFiles.keys()].map(snapshotFileName),
    ];
    return {
      list: () => names,
      read: (file: string): Uint8Array => {
        const index = parseSnapshotFileName(file);
        if (index !== undefined) return this.snapshotBytes(index);
        const segment = this.segments.find((s) => segmentFileName(s.seq) === file);
        if (!segment) throw new Error(`sim disk: no file ${file}`);
        const parts = segment.records.map((r) => encodeWalRecord(r.sequence, r.ops));
        if (segment === this.segments.at(-1) && this.tail) parts.push(this.tail);
        return concatBytes(parts);
      },
    };
  }

  private snapshotBytes(index: number): Uint8Array {
    const file = this.snapshotFiles.get(index)!;
    const { head, data, trailer } = encodeSnapshotFile(file.meta, file.data);
    const bytes = concatBytes([head, data, trailer]);
    if (this.rotten.has(index)) bytes[bytes.length >> 1]! ^= 0x40;
    return bytes;
  }

  private rewrite(state: DurableState): void {
    const snapshot = state.snapshot;
    this.segments = [];
    this.snapshotFiles = new Map();
    this.tail = undefined;
    this.retained = [];
    this.committing = [];
    this.hardState = undefined;
    this.records = new Map();
    this.nextSequence = 1;
    this.writtenSequence = 0;
    const ops: WalOp[] = [];
    if (state.hardState !== undefined) ops.push({ type: "hardState", state: state.hardState });
    for (const [key, value] of state.records) ops.push({ type: "put", key, value });
    if (snapshot) {
      this.snapshotFiles.set(snapshot.meta.index, snapshot);
      ops.push(toWalOp({ type: "snapshot", meta: snapshot.meta, data: snapshot.data }));
      this.retained.push({ index: snapshot.meta.index, sequence: 1 });
    }
    if (state.entries.length > 0) ops.push({ type: "append", entries: state.entries });
    this.append(0, ops);
    this.syncedSequence = this.writtenSequence;
    this.syncedId = 0;
    this.writtenId = 0;
  }

  private needsCheckpoint(): boolean {
    const active = this.segments.at(-1);
    if (!active) return true;
    // Rotate only between synced records, as FileStorage does (a batch never spans segments).
    return active.records.length >= this.layout.segmentRecords && !this.pending;
  }

  private append(id: number, ops: readonly WalOp[]): void {
    if (this.needsCheckpoint()) {
      const seq = (this.segments.at(-1)?.seq ?? 0) + 1;
      this.segments.push({ seq, records: [], maxEntryIndex: 0 });
      const checkpoint: WalOp[] = [];
      if (this.hardState !== undefined)
        checkpoint.push({ type: "hardState", state: this.hardState });
      for (const [key, value] of this.records) checkpoint.push({ type: "put", key, value });
      if (checkpoint.length > 0 || id > 0) this.push(0, checkpoint);
    }
    this.push(id, ops);
  }

  private push(id: number, ops: readonly WalOp[]): void {
    const active = this.segments.at(-1)!;
    const sequence = this.nextSequence++;
    active.records.push({ sequence, id, ops });
    active.maxEntryIndex = Math.max(active.maxEntryIndex, maxAppendedIndex(ops));
    this.writtenSequence = sequence;
    if (id > 0) this.writtenId = id;
    for (const op of ops) {
      if (op.type === "hardState") this.hardState = op.state;
      else if (op.type === "put") this.records.set(op.key, op.value);
      else if (op.type === "delete") this.records.delete(op.key);
    }
  }

  /** After snapshots became durable: keep the newest few, delete what the oldest kept covers. */
  private compact(): void {
    const durable = this.committing.filter((c) => c.sequence <= this.syncedSequence);
    if (durable.length === 0) return;
    this.committing = this.committing.filter((c) => c.sequence > this.syncedSequence);
    this.retained = [...this.retained, ...durable].slice(-this.layout.keepSnapshots);
    const floor = this.retained[0]!;
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const last = oldest.records.at(-1);
      if (oldest.maxEntryIndex > floor.index) break;
      if (last === undefined || last.sequence >= floor.sequence) break;
      this.segments.shift();
      this.segmentsDeleted++;
    }
    const keep = new Set([...this.retained, ...this.committing].map((r) => r.index));
    for (const index of [...this.snapshotFiles.keys()]) {
      if (!keep.has(index)) this.snapshotFiles.delete(index);
    }
  }
}
