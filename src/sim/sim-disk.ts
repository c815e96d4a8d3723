import { DurableStateBuilder } from "../core/durable-state-builder.js";
import { decodePersistOps } from "../core/persist-ops-codec.js";
import type { Random } from "../core/prng.js";
import type { DurableState, PersistOp } from "../core/protocol.js";
import { encode } from "../platform/codec.js";
import { frameRecord, readRecords } from "../platform/record-framing.js";

/**
 * A replica's simulated disk. Each persist output becomes one record; a record is durable once
 * a sync that started after it was written completes. A process crash keeps what was written
 * (the OS survives); a machine crash keeps only synced records plus a random prefix of the
 * unsynced bytes, which may cut the last record anywhere (a torn write).
 *
 * Records stay objects until a machine crash needs their bytes: only then are the unsynced ones
 * framed (length, CRC32, MessagePack) and cut, and recovery reads those bytes back through the
 * same framing and checks a real log uses. That keeps the common path fast.
 */
export class SimDisk {
  private records: { id: number; ops: readonly PersistOp[] }[] = [];
  /** Bytes that survived a machine crash past the synced records: read back at recovery. */
  private tail: Uint8Array | undefined;
  private synced = 0;
  private syncedId = 0;
  syncInFlight = false;
  syncs = 0;
  tornTails = 0;
  writes = 0;

  write(id: number, ops: readonly PersistOp[]): void {
    this.records.push({ id, ops });
    this.writes++;
  }

  get pending(): boolean {
    return this.synced < this.records.length;
  }

  /** Starts a sync: returns what it will cover, to be completed with `completeSync`. */
  beginSync(): { count: number; id: number } {
    this.syncInFlight = true;
    this.syncs++;
    return {
      count: this.records.length,
      id: this.records[this.records.length - 1]?.id ?? this.syncedId,
    };
  }

  completeSync(cover: { count: number; id: number }): number {
    this.syncInFlight = false;
    if (cover.count > this.synced) this.synced = cover.count;
    if (cover.id > this.syncedId) this.syncedId = cover.id;
    return this.syncedId;
  }

  /** What survives a crash. `machine`: unsynced bytes may be lost and the tail torn. */
  crash(machine: boolean, random: Random): void {
    this.syncInFlight = false;
    if (!machine || this.synced === this.records.length) return;
    const unsynced = this.records.slice(this.synced).map((r) => frameRecord(encode(r.ops)));
    this.records.length = this.synced;
    const total = unsynced.reduce((n, r) => n + r.length, 0);
    // Writes reach the disk in order here; keeping a byte prefix models a torn last record.
    const keep = random.int(total + 1);
    const bytes = new Uint8Array(keep);
    let at = 0;
    for (const r of unsynced) {
      if (at >= keep) break;
      const part = r.subarray(0, Math.min(r.length, keep - at));
      if (part.length < r.length) this.tornTails++;
      bytes.set(part, at);
      at += part.length;
    }
    this.tail = bytes;
  }

  /**
   * Reads the disk the way a restarting replica does: whole records up to the first torn or
   * corrupt one, which is cut off along with everything after it. Rewrites the disk compactly.
   */
  recover(): DurableState {
    const builder = new DurableStateBuilder();
    for (const r of this.records) for (const op of r.ops) builder.apply(op);
    if (this.tail) {
      const { records } = readRecords(this.tail);
      for (const payload of records) for (const op of decodePersistOps(payload)) builder.apply(op);
      this.tail = undefined;
    }
    const state = builder.build();
    // Compact: one synced record holding exactly the recovered state.
    const ops: PersistOp[] = [];
    if (state.hardState !== undefined) ops.push({ type: "hardState", state: state.hardState });
    if (state.snapshot)
      ops.push({ type: "snapshot", meta: state.snapshot.meta, data: state.snapshot.data });
    if (state.entries.length > 0) ops.push({ type: "append", entries: state.entries });
    this.records = ops.length > 0 ? [{ id: 0, ops }] : [];
    this.synced = this.records.length;
    this.syncedId = 0;
    return state;
  }
}
