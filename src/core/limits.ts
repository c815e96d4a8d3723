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

  // ---- Raft (src/protocols/raft). Pending commands and pending reads are bounded by the
  // `maxPendingRequests` setting; the queues below have fixed bounds.
  /** Membership requests a Raft leader holds until the committed membership satisfies them; beyond it: `busy`. */
  raftMaxAdminWaiters: 64,
  /** A membership request waits at most this many election timeouts, then is forgotten (its client retries; the ops are idempotent). */
  raftAdminWaiterElectionTimeouts: 20,
  /** Clients waiting on one leadership transfer; beyond it: `busy`. */
  raftMaxTransferWaiters: 64,
  /** Send times of heartbeat rounds a Raft leader remembers for leases (older rounds count as never acknowledged). */
  raftHeartbeatRoundsKept: 256,
  /** A replica removed from the membership still gets the log for this many election timeouts, so it learns of its removal. */
  raftRemovedGraceElectionTimeouts: 2,
  /** Lease reads stay off for this many election timeouts after a transfer that sent TimeoutNow was given up. */
  raftLeaseBlockElectionTimeouts: 2,
  /** Largest snapshot a Raft follower accepts over InstallSnapshot (bytes); a larger declared total is refused and counted. */
  raftMaxSnapshotBytes: 2 ** 31,
  /** Chunks of an incoming snapshot held as separate pieces; at the bound they are joined into one piece of the bytes received. */
  raftMaxSnapshotPieces: 1024,

  // ---- Connection budgets of a replica (docs/net.md, "Connection budgets"; docs/operations.md,
  // "File descriptors"). Unauthenticated sockets cost an attacker nothing, so they get their own,
  // smaller budget and can never crowd out a dialer that holds a key.
  /** Authenticated client connections held at once (replica links are not counted); beyond it the newest is closed. */
  netAuthenticatedConnections: 1024,
  /** Connections still in their handshake, held at once; when full, the oldest is closed to admit the newcomer. */
  netUnauthenticatedConnections: 128,
  /** Connections still in their handshake from one source address; beyond it that address's oldest is closed. */
  netUnauthenticatedPerAddress: 32,
  /** Connections to the metrics/status HTTP endpoint held at once; when full, the oldest idle one is closed (else the newcomer). */
  httpConnections: 64,
  /** HTTP: a connection must deliver its request headers within this (ms), and the whole request within httpRequestMs. */
  httpHeadersMs: 3_000,
  httpRequestMs: 5_000,
  /** HTTP: an idle keep-alive connection, or a socket that sends nothing, is closed after this (ms). */
  httpIdleMs: 2_000,
  /**
   * File descriptors never handed to sockets: storage (WAL segment, directory fsyncs, snapshot
   * temp file, lock file, recovery reads), logs and Node itself need them. The replica refuses
   * sockets once its sockets would eat into max(fdReserveMin, soft limit / 8).
   */
  fdReserveMin: 256,
} as const;
