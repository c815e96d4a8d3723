import type { LogIndex, Term } from "../../core/ids.js";
import type { SnapshotMeta } from "../../core/protocol.js";
import { isPlainObject } from "../../core/schema.js";
import type { Value } from "../../core/value.js";

/**
 * Raft's fields in the protocol-neutral SnapshotMeta: the term of the entry at `index` lives in
 * `meta.protocol` as `{ term }` (the contract itself knows no terms).
 */
export function raftSnapshotMeta(index: LogIndex, term: Term, config: Value): SnapshotMeta {
  return { index, config, protocol: { term } };
}

/** The term of the entry a Raft snapshot ends at. Throws if the meta is not Raft's. */
export function snapshotTerm(meta: SnapshotMeta): Term {
  const p = meta.protocol;
  const term = isPlainObject(p) ? p.term : undefined;
  if (typeof term !== "number" || !Number.isSafeInteger(term) || term < 0) {
    throw new Error(`raft: snapshot meta at ${meta.index} carries no term`);
  }
  return term;
}
