import type { AdminOp, ReplyResult } from "./client-messages.js";
import type { ClientOperation } from "./client-operation.js";
import type { ClusterConfig } from "./config.js";
import type { Crypto } from "./crypto.js";
import type { ClientId, LogIndex, ReplicaId, Term } from "./ids.js";
import type { LogEntry } from "./log-entry.js";
import type { Random } from "./prng.js";
import type { AppliedCommand } from "./replicated-service.js";
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
}

/** Stable storage the core asks for. Ops in one `persist` output are atomic and ordered. */
export type PersistOp =
  /** Replace the protocol's hard state (Raft: term, vote; PBFT: view; P/B: epoch). */
  | { readonly type: "hardState"; readonly state: Value }
  /** Append contiguous entries; entries already stored at or after the first index are replaced. */
  | { readonly type: "append"; readonly entries: readonly LogEntry[] }
  /** Drop stored entries with index ≥ from. */
  | { readonly type: "truncate"; readonly from: LogIndex }
  /** Store a snapshot of the service state; stored entries ≤ meta.index may then be dropped. */
  | { readonly type: "snapshot"; readonly meta: SnapshotMeta; readonly data: Uint8Array };

export interface SnapshotMeta {
  readonly index: LogIndex;
  /** The term of the entry at `index` (storage relies on it to check a fallback snapshot). */
  readonly term: Term;
  /** The membership in force at `index`, in the protocol's own shape. */
  readonly config: Value;
  /** Leader time of the entry at `index`: entries after a restart from this snapshot never go below it. */
  readonly time?: number;
}

/** What a replica finds on its disk when it starts. */
export interface DurableState {
  readonly hardState: Value | undefined;
  readonly snapshot: { readonly meta: SnapshotMeta; readonly data: Uint8Array } | undefined;
  /** Entries after the snapshot, contiguous from snapshot index + 1 (or from 1). */
  readonly entries: readonly LogEntry[];
}

export const emptyDurableState: DurableState = {
  hardState: undefined,
  snapshot: undefined,
  entries: [],
};

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
    }
  /** A query output has been answered at the requested index. */
  | {
      readonly type: "queryDone";
      readonly client: ClientId;
      readonly qid: number;
      readonly result: ReplyResult;
    }
  /** Answer to a takeSnapshot output: the service state at `index`. */
  | { readonly type: "snapshotTaken"; readonly index: LogIndex; readonly data: Uint8Array };

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
  /** Apply these committed entries to the service in order, then feed `applied`. */
  | { readonly type: "apply"; readonly entries: readonly LogEntry[] }
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
  /** Replace the service state with this snapshot (state transfer); it is also being persisted. */
  | { readonly type: "installSnapshot"; readonly meta: SnapshotMeta; readonly data: Uint8Array };

/** What a core reports about itself, for metrics, dashboards and the simulator's checks. */
export interface CoreStatus {
  readonly role: string;
  readonly term: Term;
  readonly leader: ReplicaId | undefined;
  readonly commitIndex: LogIndex;
  readonly lastIndex: LogIndex;
  /** Protocol-specific details (votes, views, in-flight counts). */
  readonly details?: Value;
}

export interface ProtocolCore<W extends WireTypes> {
  readonly id: ReplicaId;
  step(input: CoreInput<W>): readonly CoreOutput<W>[];
  status(): CoreStatus;
  /** Throws when a protocol invariant does not hold; the simulator calls it after every step. */
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

/** Everything lockstep needs to run a protocol. */
export interface ProtocolDefinition<W extends WireTypes = WireTypes> {
  readonly name: ProtocolName;
  /** Replicas needed to tolerate f faults of this protocol's model. */
  replicasFor(f: number): number;
  readonly schemas: {
    readonly peer: Schema<W["peer"]>;
    readonly request: Schema<W["request"]>;
    readonly response: Schema<W["response"]>;
  };
  createReplica(options: ReplicaOptions): ProtocolCore<W>;
  createClient(options: ClientOptions): ClientCore<W>;
}
