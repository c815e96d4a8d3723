import type { PersistOp } from "../core/protocol.js";

/**
 * What the runtime needs from durable storage: the other half of
 * `ReplicaEnvironment.persist(id, ops)` and `ReplicaNode.durable(upTo)`.
 *
 * - `append` starts making a persist output durable and returns at once. Ids must increase.
 * - `onDurable` listeners hear, in increasing order, that every append with id ≤ upTo is on
 *   stable storage (fdatasync'ed). Wire it to `ReplicaNode.durable`.
 * - `onError` listeners hear that storage failed for good; no more ids will become durable and
 *   the replica should stop (fail-stop) and restart from the directory.
 * - `flush` resolves when everything appended so far is durable (rejects if storage failed).
 * - `close` flushes, then releases the files and the directory lock.
 */
export interface Storage {
  append(id: number, ops: readonly PersistOp[]): void;
  onDurable(listener: (upTo: number) => void): () => void;
  onError(listener: (error: Error) => void): () => void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface StorageOptions {
  /** Start a new WAL segment once the active one reaches this many bytes. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Snapshot files to keep (the newest ones); at least 1. Default 2. */
  readonly keepSnapshots?: number;
}

export const defaultSegmentBytes = 64 * 1024 * 1024;
export const defaultKeepSnapshots = 2;
