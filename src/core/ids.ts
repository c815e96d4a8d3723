/** A replica's index in the cluster configuration: 0 .. n-1. Numbers keep messages small and let PBFT compute the primary as `view mod n`. */
export type ReplicaId = number;

/** A client's session id. Real clients use 128 random bits in hex; the simulator uses readable names. */
export type ClientId = string;

/** Per-client request sequence number, starting at 1. Retries reuse it; that is what makes commands exactly-once. */
export type Seq = number;

/** A position in a replicated log (1-based; 0 means "nothing"). */
export type LogIndex = number;

/** Raft's term, PBFT's view, primary/backup's epoch: the number that orders leadership. */
export type Term = number;

export function isReplicaId(x: unknown): x is ReplicaId {
  return typeof x === "number" && Number.isInteger(x) && x >= 0 && x < 1024;
}

export function isClientId(x: unknown): x is ClientId {
  return typeof x === "string" && x.length > 0 && x.length <= 64;
}
