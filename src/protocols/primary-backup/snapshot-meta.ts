import type { SnapshotMeta } from "../../core/protocol.js";
import { isPlainObject } from "../../core/schema.js";
import type { Epoch } from "./messages.js";

/** The epoch of the entry a snapshot ends at, kept in the snapshot's protocol fields. */
export function snapshotEpoch(meta: SnapshotMeta): Epoch {
  const p = meta.protocol;
  if (isPlainObject(p) && typeof p.epoch === "number") return p.epoch;
  throw new Error(`primary-backup: snapshot at ${meta.index} has no epoch in its metadata`);
}
