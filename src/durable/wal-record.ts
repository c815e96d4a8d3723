import {
  persistOpShapes,
  snapshotMetaFields,
  snapshotMetaSchema,
} from "../core/persist-ops-codec.js";
import type { PersistOp, SnapshotMeta } from "../core/protocol.js";
import { array, int, type Schema, tagged } from "../core/schema.js";
import { decode, encode } from "../platform/codec.js";
import { frameRecord } from "../platform/record-framing.js";

/**
 * One WAL record: `encode([walFormat, sequence, ops])`, framed by `frameRecord`
 * ([len][crc32][payload]). Format 1 (before protocol-defined records and the protocol-neutral
 * snapshot meta) was `[sequence, ops]`; it is refused with WalFormatError, never misread.
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

/** The WAL format this version writes and reads. */
export const walFormat = 2;

/** A record written in a WAL format this version does not read. */
export class WalFormatError extends Error {
  constructor(readonly found: number) {
    super(
      `written in WAL format ${found}, but this lockstep reads format ${walFormat} only (the data directory comes from ${found < walFormat ? "an older" : "a newer"} lockstep; start this replica with an empty data directory so it catches up from the others, or run the lockstep version that wrote it)`,
    );
    this.name = "WalFormatError";
  }
}

const walOpSchema = tagged({
  ...persistOpShapes,
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
    case "put":
      return { type: "put", key: op.key, value: op.value };
    case "delete":
      return { type: "delete", key: op.key };
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
  return frameRecord(encode([walFormat, sequence, ops]));
}

/** Decodes and validates a record payload; throws an Error saying what is wrong. */
export function decodeWalRecord(payload: Uint8Array): WalRecord {
  const raw = decode(payload);
  // Format 1 records were [sequence, ops]: a two-element array whose first item is a number.
  if (Array.isArray(raw) && raw.length === 2 && typeof raw[0] === "number") {
    throw new WalFormatError(1);
  }
  if (!Array.isArray(raw) || raw.length !== 3) {
    throw new Error("expected [format, sequence, ops]");
  }
  if (raw[0] !== walFormat) {
    if (typeof raw[0] === "number" && Number.isInteger(raw[0])) throw new WalFormatError(raw[0]);
    throw new Error("format is not an integer");
  }
  const sequence = int(1).parse(raw[1], "sequence");
  const ops = walOpsSchema.parse(raw[2], "ops");
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
