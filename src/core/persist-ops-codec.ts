import { decode } from "./codec.js";
import { logEntrySchema } from "./log-entry.js";
import type { PersistOp, SnapshotMeta } from "./protocol.js";
import { array, bytes, int, object, optional, type Schema, tagged, value } from "./schema.js";

// Stored state can be far bigger than a network message (a snapshot's bytes, a long append).
const storedValue = value(512, Number.MAX_SAFE_INTEGER);

/** Every field of SnapshotMeta; storage (the WAL, snapshot files, the simulator's disk) checks with it. */
export const snapshotMetaSchema: Schema<SnapshotMeta> = object({
  index: int(0),
  term: int(0),
  config: storedValue,
  time: optional(int(0)),
}) as Schema<SnapshotMeta>;

/** The fields of SnapshotMeta, copied one by one so that nothing unexpected is stored. */
export function snapshotMetaFields(meta: SnapshotMeta): SnapshotMeta {
  const { index, term, config, time } = meta;
  return time === undefined ? { index, term, config } : { index, term, config, time };
}

const persistOpsSchema = array(
  tagged({
    hardState: { state: storedValue },
    append: { entries: array(logEntrySchema) },
    truncate: { from: int(0) },
    snapshot: { meta: snapshotMetaSchema, data: bytes(Number.MAX_SAFE_INTEGER) },
  }),
) as unknown as Schema<PersistOp[]>;

/** Decodes a stored list of persist ops; storage is trusted less than memory. Throws DecodeError. */
export function decodePersistOps(payload: Uint8Array): PersistOp[] {
  return decode(payload, persistOpsSchema);
}
