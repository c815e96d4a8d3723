/**
 * Every fixed limit in lockstep, named in one place. A queue, batch or table that can grow
 * from outside input has a bound here, and the code that enforces it says what happens when
 * the bound is reached (drop and count, refuse with an error code, or fail the oldest).
 *
 * Limits a user may tune per cluster live in the protocols' settings instead; the values here
 * are the hard ceilings and the defaults that are not worth a setting.
 */
export const limits = {
  /**
   * ReplicaNode: messages held until the persist they depend on is durable. When full, the
   * newest message is dropped and counted (`ReplicaNode.dropped.held`): every protocol already
   * tolerates lost messages, and a disk this far behind is stalling the replica anyway.
   */
  replicaHeldMessages: 65_536,
  /**
   * ReplicaNode: queries waiting for the service to reach their index. When full, the query is
   * answered at once with error `busy` (the client retries).
   */
  replicaWaitingQueries: 4096,
  /**
   * ReplicaNode: inputs queued while the core is stepping (re-entrant calls from the
   * environment), and steps taken in one turn of `handle`. A core that makes a node feed
   * itself this much in one turn is broken: the node throws (fail-stop) rather than grow or
   * loop forever.
   */
  replicaQueuedInputs: 1_000_000,
  replicaStepsPerTurn: 1_000_000,
  /** ReplicaNode: external requests in flight; beyond it the request is answered `busy`. */
  replicaExternalInFlight: 64,
  /**
   * FileStorage: persist outputs queued behind the commit in progress. When full, storage fails
   * (fail-stop: the replica restarts from its directory), since a protocol cannot drop a persist.
   */
  storageQueuedPersists: 100_000,
  /**
   * single: client commands received and not yet answered. Beyond it a request is answered
   * `overloaded` at once and not logged (the client retries later).
   */
  singleAwaiting: 10_000,
} as const;
