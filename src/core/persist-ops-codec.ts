import { decode } from "./codec.js";
import { logEntrySchema } from "./log-entry.js";
import type { PersistOp, SnapshotMeta } from "./protocol.js";
import { array, bytes, int, object, optional, type Schema, str, tagged, value } from "./schema.js";

// Stored state can be far bigger than a network message (a snapshot's bytes, a long append).
const storedValue = value(512, Number.MAX_SAFE_INTEGER);

/** Longest key of a protocol-defined record (`put`/`delete`). */
export const maxRecordKeyLength = 256;

/** Every field of SnapshotMeta; storage (the WAL, snapshot files, the simulator's disk) checks with it. */
export const snapshotMetaSchema: Schema<SnapshotMeta> = object({
  index: int(0),
  config: storedValue,
  time: optional(int(0)),
  digest: optional(bytes(1024)),
  proof: optional(storedValue),
  protocol: optional(storedValue),
}) as Schema<SnapshotMeta>;

/** The fields of SnapshotMeta, copied one by one so that nothing unexpected is stored. */
export function snapshotMetaFields(meta: SnapshotMeta): SnapshotMeta {
  const { index, config, time, digest, proof, protocol } = meta;
  const out: { -readonly [K in keyof SnapshotMeta]: SnapshotMeta[K] } = { index, config };
  if (time !== undefined) out.time = time;
  if (digest !== undefined) out.digest = digest;
  if (proof !== undefined) out.proof = proof;
  if (protocol !== undefined) out.protocol = protocol;
  return out;
}

/** Shapes of the ops other than `snapshot`, shared by the persist-op and WAL schemas. */
export const persistOpShapes = {
  hardState: { state: storedValue },
  append: { entries: array(logEntrySchema) },
  truncate: { from: int(0) },
  put: { key: str(maxRecordKeyLength), value: storedValue },
  delete: { key: str(maxRecordKeyLength) },
};

const persistOpsSchema = array(
  tagged({
    ...persistOpShapes,
    snapshot: { meta: snapshotMetaSchema, data: bytes(Number.MAX_SAFE_INTEGER) },
  }),
) as unknown as Schema<PersistOp[]>;

/** Decodes a stored list of persist ops; storage is trusted less than memory. Throws DecodeError. */
export function decodePersistOps(payload: Uint8Array): PersistOp[] {
  return decode(payload, persistOpsSchema);
}
