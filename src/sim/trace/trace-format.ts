/**
 * The structured simulator trace (`lockstep sim --seed S --trace FILE`), one JSON document.
 * Read by the replay page (src/dashboard/web/replay/) and `lockstep dashboard --replay FILE`.
 * This file has no imports so the browser code can share the types.
 *
 * Times are virtual milliseconds since the start of the run (microsecond precision).
 * `format` and `version` name the layout; a reader refuses any other. Bump the version when a
 * field changes meaning or goes away; new optional fields keep it.
 */
export const traceFormat = "lockstep-sim-trace";
export const traceVersion = 1;

/** A JSON value (what the recorder keeps of statuses, operations and results). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

export type LaneKind = "replica" | "client" | "admin" | "faulty-client";

/** One row of the space-time diagram: a network endpoint of the run. */
export interface TraceLane {
  /** The endpoint number messages use in `from` and `to`. */
  readonly id: number;
  readonly name: string;
  readonly kind: LaneKind;
  /** Replicas the protocol's adversary (or a Twins scenario) made faulty in this run. */
  readonly faulty?: boolean;
}

/**
 * What became of a message: handled by its receiver; dropped when sent (link down or random
 * loss); lost in flight (the link went down meanwhile); lost because the receiver was down;
 * refused by the receiver's decoder; still in flight when the run ended.
 */
export type MessageFate =
  | "delivered"
  | "dropped"
  | "lost-in-flight"
  | "receiver-down"
  | "malformed"
  | "in-flight";

export interface TraceMessage {
  /** Send number (a duplicated message's second copy has the same id). */
  readonly id: number;
  readonly from: number;
  readonly to: number;
  readonly channel: "peer" | "request" | "response";
  /** The message's `type` field (e.g. appendEntries, prepare), or "?" when it has none. */
  readonly kind: string;
  readonly sent: number;
  /** When the fate happened (equal to `sent` for a message dropped when sent). */
  readonly at: number;
  readonly fate: MessageFate;
  /** The network delivered this copy twice; this is the second copy. */
  readonly duplicate?: boolean;
  /** The message, shortened (at most ~160 characters). */
  readonly summary: string;
}

export type FaultKind =
  | "crash"
  | "restart"
  | "pause"
  | "partition"
  | "heal"
  | "network"
  | "clock"
  | "twins"
  | "faults-stop";

export interface TraceFault {
  readonly t: number;
  readonly kind: FaultKind;
  /** The replica lanes it affects (empty: the whole network). */
  readonly replicas: readonly number[];
  readonly text: string;
  /** For pauses: when the replica resumes. */
  readonly until?: number;
  /** For partitions: the blocked links between lanes, [from, to]. */
  readonly cut?: readonly (readonly [number, number])[];
}

export type OperationOutcome = "ok" | "failed" | "indeterminate" | "pending";

export interface TraceOperation {
  /** The operation's id in the checked history (the checker's counterexample names these). */
  readonly id: number;
  /** The client's lane id. */
  readonly lane: number;
  readonly client: string;
  readonly input: JsonValue;
  readonly invoked: number;
  /** When the client saw the outcome; undefined while pending (or when the run ended first). */
  readonly returned?: number;
  readonly outcome: OperationOutcome;
  readonly result?: JsonValue;
}

/** A replica's status (ProtocolCore.status()) from time `t` until its next entry. */
export interface TraceStatus {
  readonly t: number;
  readonly replica: number;
  /** Undefined: the replica is down from `t`. */
  readonly status?: {
    readonly role: string;
    readonly term: number;
    readonly leader: number | null;
    readonly commitIndex: number;
    readonly lastIndex: number;
    readonly leads: boolean;
    /** The Byzantine behaviour this replica runs from its (re)start (the adversary's catalog). */
    readonly byzantine?: string;
    readonly details?: JsonValue;
  };
}

/** Lines of the simulator's text trace that have no structured event of their own. */
export interface TraceNote {
  readonly t: number;
  readonly text: string;
}

export interface TraceVerdict {
  readonly ok: boolean;
  readonly violations: readonly string[];
  /** The first violation's first line: the invariant the run broke. */
  readonly invariant?: string;
  /** The linearizability checker's verdict ("not checked" without a model). */
  readonly linearizability: string;
  /** For a linearizability violation: the checker's counterexample. */
  readonly counterexample?: {
    /** The operations the checker could not place next (their ids). */
    readonly stuck: readonly number[];
    /** The longest linearizable prefix it found, in order. */
    readonly linearized: readonly number[];
    readonly explanation: string;
  };
}

export interface TraceLimits {
  /** At most this many messages, faults, operations, statuses and notes together are kept. */
  readonly maxEvents: number;
  /** The cap was reached: records after `cappedAt` ms were left out (counts by kind in `omitted`). */
  readonly capped: boolean;
  readonly cappedAt?: number;
  readonly omitted: { readonly [kind: string]: number };
}

export interface SimTrace {
  readonly format: typeof traceFormat;
  readonly version: typeof traceVersion;
  readonly protocol: string;
  readonly seed: number;
  /** The run's options (as `SimOptions`, with a service object replaced by its label). */
  readonly options: { readonly [key: string]: JsonValue };
  /** The command that replays this seed. */
  readonly replay: string;
  readonly traceHash: string;
  /** "term", "view" or "epoch": what `status.term` is called in this protocol. */
  readonly epochName: string;
  /** Virtual time of the last event. */
  readonly endTime: number;
  /** When the faults stopped (the liveness phase began). */
  readonly faultsStoppedAt?: number;
  readonly lanes: readonly TraceLane[];
  readonly messages: readonly TraceMessage[];
  readonly faults: readonly TraceFault[];
  readonly operations: readonly TraceOperation[];
  readonly statuses: readonly TraceStatus[];
  readonly notes: readonly TraceNote[];
  readonly limits: TraceLimits;
  readonly verdict: TraceVerdict;
}
