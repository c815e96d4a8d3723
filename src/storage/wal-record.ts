import { logEntrySchema } from "../core/log-entry.js";
import { snapshotMetaFields, snapshotMetaSchema } from "../core/persist-ops-codec.js";
import type { PersistOp, SnapshotMeta } from "../core/protocol.js";
import { array, int, type Schema, tagged, value } from "../core/schema.js";
import { decode, encode } from "../platform/codec.js";
import { frameRecord } from "../platform/record-framing.js";

/**
 * One WAL record: `encode([sequence, ops])`, framed by `frameRecord` ([len][crc32][payload]).
 *
 * `sequence` is the storage's own record number, +1 per record over the life of the directory
 * (persist ids restart at 1 with every process, so they cannot order records across restarts).
 * A snapshot op is stored without its data: the bytes live in `snapshot-<index>.snap`, and the
 * WAL record is what commits that file.
 */
export type WalOp =
  | Exclude<PersistOp, { readonly type: "snapshot" }>
  | { readonly type: "snapshot"; readonly meta: SnapshotMeta };

export interface WalRecord {
  readonly sequence: number;
  readonly ops: readonly WalOp[];
}

const walOpSchema = tagged({
  hardState: { state: value() },
  append: { entries: array(logEntrySchema) },
  truncate: { from: int(0) },
  snapshot: { meta: snapshotMetaSchema },
}) as unknown as Schema<WalOp>;

const walOpsSchema: Schema<WalOp[]> = array(walOpSchema);

/** The WAL form of a persist op: field by field, so nothing unexpected reaches the disk. */
export function toWalOp(op: PersistOp): WalOp {
  switch (op.type) {
    case "hardState":
      return { type: "hardState", state: op.state };
    case "append":
      return { type: "append", entries: op.entries };
    case "truncate":
      return { type: "truncate", from: op.from };
    case "snapshot":
      return { type: "snapshot", meta: snapshotMetaFields(op.meta) };
  }
}

/**
 * Checks ops with the schema recovery will apply to them, so storage never writes a record it
 * would refuse to read back. Throws SchemaError naming the bad field.
 */
export function checkWalOps(ops: readonly WalOp[]): void {
  walOpsSchema.parse(ops, "ops");
}

export function encodeWalRecord(sequence: number, ops: readonly WalOp[]): Uint8Array {
  return frameRecord(encode([sequence, ops]));
}

/** Decodes and validates a record payload; throws an Error saying what is wrong. */
export function decodeWalRecord(payload: Uint8Array): WalRecord {
  const raw = decode(payload);
  if (!Array.isArray(raw) || raw.length !== 2) {
    throw new Error("expected [sequence, ops]");
  }
  const sequence = int(1).parse(raw[0], "sequence");
  const ops = walOpsSchema.parse(raw[1], "ops");
  return { sequence, ops };
}

/** The highest entry index an op appends (0 if none), for deciding which segments a snapshot covers. */
export function maxAppendedIndex(ops: readonly WalOp[]): number {
  let max = 0;
  for (const op of ops) {
    if (op.type === "append") {
      const last = op.entries.at(-1);
      if (last && last.index > max) max = last.index;
    }
  }
  return max;
}
