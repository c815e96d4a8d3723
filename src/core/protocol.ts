import type { ClientAccess } from "./access.js";
import type { AdminOp, ReplyResult } from "./client-messages.js";
import type { ClientOperation } from "./client-operation.js";
import type { ClusterConfig } from "./config.js";
import type { Crypto } from "./crypto.js";
import type { ClientId, LogIndex, ReplicaId, Term } from "./ids.js";
import type { LogEntry } from "./log-entry.js";
import type { Random } from "./prng.js";
import type { AppliedAdmin, AppliedCommand } from "./replicated-service.js";
import type { Schema } from "./schema.js";
import type { Value } from "./value.js";

/**
 * The sans-IO contract between a protocol core and whoever drives it (the simulator or the
 * real runtime). A core is a deterministic function of its inputs: it never reads a clock,
 * a socket, a file or Math.random, and never awaits. The driver feeds CoreInputs one at a
 * time and carries out the CoreOutputs each step returns, in order.
 *
 * The three message families of a protocol: replica↔replica, client→replica, replica→client.
 */
export interface WireTypes {
  readonly peer: unknown;
  readonly request: unknown;
  readonly response: unknown;
  /** Requests to, and answers from, something outside the group (see `external` outputs). */
  readonly external?: { readonly request: unknown; readonly answer: unknown };
}

/**
 * Stable storage the core asks for. Ops in one `persist` output are atomic and ordered.
 *
 * Two kinds of durable state, usable together: a log (`append`/`truncate`, compacted by
 * `snapshot`), whose shape rules the protocol declares in `ProtocolDefinition.durableRules`
 * (Raft: gap-free, log matching); and keyed records (`put`/`delete`), for state that is not a
 * log (PBFT: per-sequence-number slots inside the water marks, certificates, checkpoint proofs;
 * primary/backup: the epoch). Storage keeps the last value put under each key.
 */
export type PersistOp =
  /** Replace the protocol's hard state (Raft: term, vote; PBFT: view; P/B: epoch). */
  | { readonly type: "hardState"; readonly state: Value }
  /** Store entries; entries already stored at or after the first index are replaced. */
  | { readonly type: "append"; readonly entries: readonly LogEntry[] }
  /** Drop stored entries with index ≥ from. */
  | { readonly type: "truncate"; readonly from: LogIndex }
  /** Store a snapshot of the service state; stored entries ≤ meta.index may then be dropped. */
  | { readonly type: "snapshot"; readonly meta: SnapshotMeta; readonly data: Uint8Array }
  /** Store a protocol-defined record under `key` (replacing any earlier value). */
  | { readonly type: "put"; readonly key: string; readonly value: Value }
  /** Forget the record under `key` (no-op if absent). */
  | { readonly type: "delete"; readonly key: string };

/**
 * What a snapshot is, in words every protocol shares. Nothing here is Raft's: Raft keeps the
 * term of the entry at `index` in `protocol` (src/protocols/raft/snapshot-meta.ts).
 */
export interface SnapshotMeta {
  /** The last log position (Raft index, PBFT sequence number) whose effects the snapshot holds. */
  readonly index: LogIndex;
  /** The membership in force at `index`, in the protocol's own shape. */
  readonly config: Value;
  /** Log time of the entry at `index`: entries after a restart from this snapshot never go below it. */
  readonly time?: number;
  /** Digest of the service state (PBFT: the checkpoint digest that CHECKPOINT messages sign). */
  readonly digest?: Uint8Array;
  /** Why others may trust the snapshot (PBFT: 2f+1 signed CHECKPOINT messages). */
  readonly proof?: Value;
  /** Fields only the protocol reads (Raft: `{ term }` of the entry at `index`). */
  readonly protocol?: Value;
}

/** What a replica finds on its disk when it starts. */
export interface DurableState {
  readonly hardState: Value | undefined;
  readonly snapshot: { readonly meta: SnapshotMeta; readonly data: Uint8Array } | undefined;
  /** Log entries after the snapshot, in index order (gap-free if the protocol's rules say so). */
  readonly entries: readonly LogEntry[];
  /** Keyed records (`put`/`delete`), sorted by key. */
  readonly records: ReadonlyMap<string, Value>;
}

export const emptyDurableState: DurableState = {
  hardState: undefined,
  snapshot: undefined,
  entries: [],
  records: new Map(),
};

/**
 * The rules of a protocol's durable log that storage and recovery must respect. Recovery is
 * shared by the WAL and the simulator's disk; what is specific to one protocol lives here.
 */
export interface DurableRules {
  /**
   * The log is gap-free: an append must continue the stored entries (Raft). Storage then
   * refuses a gap, and a snapshot keeps the stored entries after it only if they continue it.
   */
  readonly gapFree: boolean;
  /**
   * A committed snapshot newer than the one recovery could load (its file is lost or corrupt):
   * may the log stand in for it? `entry` is the stored entry at `meta.index`, if any. Raft:
   * yes if that entry has the snapshot's term (log matching: the log then holds everything the
   * snapshot covered). Returning false makes recovery refuse the directory.
   */
  logCoversSnapshot(meta: SnapshotMeta, entry: LogEntry | undefined): boolean;
}

/** For protocols that keep no log, or whose log does not vouch for lost snapshots. */
export const noLogRules: DurableRules = {
  gapFree: false,
  logCoversSnapshot: () => false,
};

/**
 * A request the core makes of something outside the replica group (primary/backup: an atomic
 * test-and-set on an arbiter). The driver carries it out through the handler the protocol
 * supplies, and feeds the answer back as an `external` input with the same id.
 */
export type ExternalRequest<W extends WireTypes> = W extends {
  readonly external: { readonly request: infer R };
}
  ? R
  : "external" extends keyof W
    ? unknown // the generic WireTypes: a driver that runs any protocol
    : never; // a protocol that declares no external requests cannot make one
export type ExternalAnswer<W extends WireTypes> = W extends {
  readonly external: { readonly answer: infer A };
}
  ? A
  : "external" extends keyof W
    ? unknown
    : never;

/** The driver's answer to an external request: the handler's answer, or why there is none. */
export type ExternalResult<A> =
  | { readonly ok: true; readonly answer: A }
  | { readonly ok: false; readonly error: string };

/**
 * Carries out a protocol's external requests. The simulator calls it synchronously (and
 * delivers the answer after a simulated delay, or loses it under faults); the runtime may
 * return a promise. `from` is the asking replica.
 */
export interface ExternalHandler<Req = unknown, Ans = unknown> {
  call(from: ReplicaId, request: Req): ExternalResult<Ans> | Promise<ExternalResult<Ans>>;
}

export type CoreInput<W extends WireTypes> =
  /** A message from another replica, already decoded and schema-checked (and channel-authenticated). */
  | { readonly type: "peer"; readonly from: ReplicaId; readonly msg: W["peer"] }
  /**
   * A message from a client, decoded and schema-checked. `mono` is the driver's monotonic clock
   * (ms) when the message was taken in: a read served from a lease is checked at this time, not
   * at the last tick (which, after a process pause, is from before the pause).
   */
  | {
      readonly type: "client";
      readonly client: ClientId;
      readonly msg: W["request"];
      readonly mono: number;
      /**
       * What the client may do, from the replica's applied access state (core/access.ts); the
       * core refuses what it does not allow (`accessRefusal`) before ordering it. Undefined: the
       * driver tracks no access and the core checks nothing.
       */
      readonly access?: ClientAccess;
    }
  /**
   * One tick of the logical clock. `now` is this node's wall clock in ms (it may be skewed or
   * jump); cores use it only to stamp entries. `mono` is the driver's monotonic clock in ms
   * (never goes back, may drift within the protocol's bound), for leases.
   */
  | { readonly type: "tick"; readonly now: number; readonly mono: number }
  /** Every persist output with id ≤ upTo is durable. */
  | { readonly type: "persisted"; readonly upTo: number }
  /** The driver applied entries up to `upTo` (in an earlier `apply` output); here are the results. */
  | {
      readonly type: "applied";
      readonly upTo: LogIndex;
      readonly results: readonly AppliedCommand[];
      /** Results of the access changes (logged admin requests) among those entries. */
      readonly admin?: readonly AppliedAdmin[];
    }
  /** A query output has been answered at the requested index. */
  | {
      readonly type: "queryDone";
      readonly client: ClientId;
      readonly qid: number;
      readonly result: ReplyResult;
    }
  /** Answer to a takeSnapshot output: the service state at `index`. */
  | { readonly type: "snapshotTaken"; readonly index: LogIndex; readonly data: Uint8Array }
  /** The answer to the `external` output with this id (at most one per id; may never come). */
  | {
      readonly type: "external";
      readonly id: number;
      readonly result: ExternalResult<ExternalAnswer<W>>;
    };

export type CoreOutput<W extends WireTypes> =
  /**
   * Send to a replica once every persist output with id ≤ `after` is durable (0: at once).
   * Messages may be lost; the core retries what matters.
   */
  | {
      readonly type: "send";
      readonly to: ReplicaId;
      readonly msg: W["peer"];
      readonly after: number;
    }
  /** Send to a client, with the same `after` rule. */
  | {
      readonly type: "reply";
      readonly client: ClientId;
      readonly msg: W["response"];
      readonly after: number;
    }
  /** Make these ops durable, then feed `persisted` with this id. Ids increase by one per output. */
  | { readonly type: "persist"; readonly id: number; readonly ops: readonly PersistOp[] }
  /**
   * Apply these committed entries to the service in order, then feed one `applied` for the
   * whole output. With `tentative` (PBFT §5.1.2) the entries are only prepared: the driver applies
   * them all the same, but they may be undone by an `installSnapshot` with `rollback`. An entry
   * applied tentatively is made final by a later `apply` of the same index without the flag; the
   * driver does not execute it again (its service has applied that index already) and reports
   * the entry it executed as committed only then.
   */
  | {
      readonly type: "apply";
      readonly entries: readonly LogEntry[];
      readonly tentative?: boolean;
    }
  /** Run a read-only query once the service has applied `atIndex`, then feed `queryDone`. */
  | {
      readonly type: "query";
      readonly client: ClientId;
      readonly qid: number;
      readonly q: Value;
      readonly atIndex: LogIndex;
    }
  /** Snapshot the service when it has applied exactly `index` (after the apply outputs before this one), then feed `snapshotTaken`. */
  | { readonly type: "takeSnapshot"; readonly index: LogIndex }
  /**
   * Replace the service state with this snapshot (state transfer); it is also being persisted.
   * With `rollback`, the snapshot is one of committed state the replica already holds (nothing
   * new to persist), restored to undo tentatively applied entries; the core follows it with an
   * `apply` of the committed entries above it.
   */
  | {
      readonly type: "installSnapshot";
      readonly meta: SnapshotMeta;
      readonly data: Uint8Array;
      readonly rollback?: boolean;
    }
  /**
   * Ask the protocol's external handler; the answer comes back as an `external` input with the
   * same id. Ids are the core's own (unique per incarnation). Lost answers are the core's to retry.
   */
  | { readonly type: "external"; readonly id: number; readonly request: ExternalRequest<W> };

/** What a core reports about itself, for metrics, dashboards and the simulator's checks. */
export interface CoreStatus {
  /** One of the protocol's declared roles (`StatusDeclaration.roles`). */
  readonly role: string;
  /** The number that orders leadership: Raft's term, PBFT's view, primary/backup's epoch. */
  readonly term: Term;
  readonly leader: ReplicaId | undefined;
  readonly commitIndex: LogIndex;
  readonly lastIndex: LogIndex;
  /** Protocol-specific details, in the shape the protocol's StatusDeclaration reads. */
  readonly details?: Value;
}

/**
 * How to read a protocol's status without knowing the protocol: the simulator (who to aim
 * faults at, membership changes), `lockstep status`, metrics and the runtime's state watch use
 * only this, never role names or detail fields.
 */
export interface StatusDeclaration {
  /** Every role the core may report (metrics export one gauge per role). */
  readonly roles: readonly string[];
  /** What `CoreStatus.term` is called in this protocol: "term", "view" or "epoch". */
  readonly epochName: string;
  /** This replica leads in its epoch (Raft leader, PBFT primary of its view, P/B live primary). */
  leads(status: CoreStatus): boolean;
  /** This replica is trying to change who leads (Raft candidate, PBFT view change, P/B asking the arbiter). */
  campaigning(status: CoreStatus): boolean;
  /**
   * This replica leads and every copy redundancy needs is in sync with it (P/B: a paired backup
   * with no lag). Declared by protocols whose fault tolerance must be restored after a failure
   * by the survivors themselves; the simulator checks it is, within the liveness bound.
   */
  redundant?(status: CoreStatus): boolean;
  /** The members as this replica knows them, if the protocol has membership. */
  members(
    status: CoreStatus,
  ): { readonly voters: readonly ReplicaId[]; readonly learners: readonly ReplicaId[] } | undefined;
}

export interface ProtocolCore<W extends WireTypes> {
  readonly id: ReplicaId;
  step(input: CoreInput<W>): readonly CoreOutput<W>[];
  /**
   * Where the core stands. `summaryOnly`: the caller reads only role, term, leader, commitIndex
   * and lastIndex, so the core may leave `details` out (the simulator asks after every step, and
   * building PBFT's or Raft's details each time cost a tenth of a simulated run).
   */
  status(summaryOnly?: boolean): CoreStatus;
  /**
   * Throws if the core's own state breaks one of the protocol's invariants. The simulator calls
   * it after every step of every replica; it may be slow, and must not change anything.
   */
  assertInvariants?(): void;
}

export interface ReplicaOptions {
  readonly id: ReplicaId;
  readonly config: ClusterConfig;
  readonly random: Random;
  readonly crypto: Crypto;
  readonly durable: DurableState;
}

/** The client side of a protocol, also sans-IO: the simulator and the real client drive it. */
export type ClientInput<W extends WireTypes> =
  | { readonly type: "invoke"; readonly opId: number; readonly op: ClientOperation }
  /** An operator request; answered with `done` like an operation. */
  | { readonly type: "admin"; readonly opId: number; readonly admin: AdminOp }
  | { readonly type: "response"; readonly from: ReplicaId; readonly msg: W["response"] }
  | { readonly type: "tick"; readonly now: number };

export type ClientOutput<W extends WireTypes> =
  | { readonly type: "send"; readonly to: ReplicaId; readonly msg: W["request"] }
  /** Send to every replica in the configuration (PBFT: read-only requests, retransmission on timeout). */
  | { readonly type: "broadcast"; readonly msg: W["request"] }
  /**
   * The operation finished. `result.ok === false` with `indeterminate` means the command may or
   * may not have taken effect (its session was lost); otherwise a failure means it did not.
   */
  | {
      readonly type: "done";
      readonly opId: number;
      readonly result: ReplyResult;
      readonly indeterminate?: boolean;
    };

export interface ClientCore<W extends WireTypes> {
  readonly clientId: ClientId;
  step(input: ClientInput<W>): readonly ClientOutput<W>[];
  /**
   * Optional protocol counters, for observation only (PBFT: `outvoted`, authenticated replies
   * that disagreed with the result the client accepted). Never changes what the core does.
   */
  stats?(): Readonly<Record<string, number>>;
}

export interface ClientOptions {
  readonly clientId: ClientId;
  readonly config: ClusterConfig;
  readonly random: Random;
  readonly crypto: Crypto;
  /** Ticks without an answer before a request is sent again (to another replica if needed). */
  readonly retryTicks?: number;
}

export type ProtocolName = "single" | "raft" | "pbft" | "primary-backup";

/**
 * How many replicas a protocol needs, declared once per protocol (config validation, `init`,
 * cluster folders and the simulator all ask this).
 */
export interface ReplicaCountRule {
  /** Replicas needed to tolerate f faults of this protocol's model (raft 2f+1, pbft 3f+1). */
  replicasFor(f: number): number;
  /** Most faults n replicas tolerate (the inverse of replicasFor). */
  faultsTolerated(n: number): number;
  /** Largest f the protocol supports (single: 0). */
  readonly maxF?: number;
  /** Replicas beyond those counted by replicasFor that the protocol needs (primary/backup: the arbiter), for documentation and `init`. */
  readonly extra?: string;
}

/**
 * How many matching replies from distinct replicas a client needs before it may accept a result
 * (see ReplyVoter in core/reply-voter.ts). Leader-based crash-fault protocols trust one reply.
 */
export interface ReplyQuorums {
  /** Ordered (logged) requests: PBFT f+1. */
  ordered(f: number): number;
  /** Read-only and tentative replies: PBFT 2f+1. */
  unordered(f: number): number;
}

/** Everything lockstep needs to run a protocol. */
export interface ProtocolDefinition<W extends WireTypes = WireTypes> {
  readonly name: ProtocolName;
  readonly replicaCount: ReplicaCountRule;
  readonly schemas: {
    readonly peer: Schema<W["peer"]>;
    readonly request: Schema<W["request"]>;
    readonly response: Schema<W["response"]>;
  };
  /** Rules storage and recovery apply to this protocol's durable log. */
  readonly durableRules: DurableRules;
  /** How tools read this protocol's status. */
  readonly status: StatusDeclaration;
  /** Matching replies a client needs (its ClientCore applies them; tools report them). */
  readonly replyQuorums: ReplyQuorums;
  /**
   * Problems with `config.settings` (and with the config as this protocol sees it), one string
   * each; empty if it can run. Called before a replica is created, so a bad setting is reported
   * without building a core.
   */
  validateSettings(config: ClusterConfig): readonly string[];
  createReplica(options: ReplicaOptions): ProtocolCore<W>;
  createClient(options: ClientOptions): ClientCore<W>;
}
