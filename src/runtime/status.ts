import type { ReplicaId } from "../core/ids.js";
import type { Value } from "../core/value.js";
import type { RecoveryReport } from "../durable/recovery-report.js";
import type { NetCounters } from "../net/counters.js";
import type { ConnectionBudgets, PeerLinkStatus } from "../net/transport.js";
import type { StorageStats } from "../storage/stats.js";
import type { FdBudget } from "./fd-budget.js";
import type { HttpCounters } from "./metrics-server.js";
import type { StateChange } from "./state-watch.js";

/** Latency summary of one request kind, in seconds (bucket upper bounds: estimates). */
export interface LatencySummary {
  readonly count: number;
  readonly meanSeconds: number | null;
  readonly p50Seconds: number | null;
  readonly p99Seconds: number | null;
}

/** What `/status` serves and `Replica.status()` returns (docs/operations.md lists every field). */
export interface ReplicaStatus {
  /** The cluster id of the configuration this replica runs (null: the config names none). */
  readonly clusterId: string | null;
  readonly replica: ReplicaId;
  readonly protocol: string;
  readonly service: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly host: string;
  readonly port: number;
  readonly metricsPort: number | null;
  /** CPU time this process has used (process.cpuUsage) and its resident memory. */
  readonly process: {
    readonly cpuUserSeconds: number;
    readonly cpuSystemSeconds: number;
    readonly residentBytes: number;
  };

  readonly role: string;
  /** This replica leads in its term/view/epoch (read through the protocol's StatusDeclaration). */
  readonly leads: boolean;
  /** It is trying to change who leads (candidate, view change, arbiter request). */
  readonly campaigning: boolean;
  /** Every role the protocol may report (metrics export one gauge per role). */
  readonly roles: readonly string[];
  /** What `term` is called in this protocol: "term", "view" or "epoch". */
  readonly epochName: string;
  readonly term: number;
  readonly leader: ReplicaId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  /** Index of the newest snapshot this replica holds (recovered, taken or installed). */
  readonly snapshotIndex: number;
  /** Messages waiting for a persist to become durable. */
  readonly heldMessages: number;

  readonly applied: { readonly entries: number; readonly commands: number };
  readonly snapshots: {
    readonly taken: number;
    readonly installed: number;
    readonly lastTakenIndex: number | null;
    readonly lastInstalledIndex: number | null;
  };
  readonly requests: {
    /** Client requests waiting for their reply here. */
    readonly pending: number;
    /** Requests naming a session their connection may not speak for (dropped). */
    readonly foreignSession: number;
    /** Requests refused, by reason: `forbidden` (role or revoked key, docs/net.md "Roles"). */
    readonly refused: { readonly [reason: string]: number };
    readonly latency: { readonly [kind: string]: LatencySummary };
    readonly replies: readonly { kind: string; result: string; count: number }[];
  };
  /** Replicas whose link carried a frame within the liveness timeout (not merely an open socket). */
  readonly peersConnected: readonly ReplicaId[];
  /** Every other replica's link: live, silent, connecting or down (docs/net.md, "Liveness"). */
  readonly links: readonly PeerLinkStatus[];
  /**
   * Cut off by its supervisor (lockstep up --dashboard, "cut links"): protocol messages to and
   * from the other replicas are dropped and counted; the sockets stay up.
   */
  readonly linkCut: {
    readonly cut: boolean;
    readonly droppedOut: number;
    readonly droppedIn: number;
  };
  /**
   * Its newest role/term/leader changes (at most 16, oldest first, checked once per tick), so a
   * poller sees changes that came and went between two polls. Absent from replicas older than it.
   */
  readonly stateChanges?: readonly StateChange[];
  /** Authenticated client connections (clients that share a key hold one each). */
  readonly clientsConnected: number;
  readonly net: NetCounters;
  /** Inbound connections now, and the budgets and file descriptor shares (docs/operations.md, "File descriptors"). */
  readonly connections: {
    readonly inbound: number;
    readonly unauthenticated: number;
    readonly budgets: ConnectionBudgets;
    readonly fds: FdBudget;
  };
  /** The metrics/status endpoint: connections open now and its counters (null: no endpoint). */
  readonly http:
    | (HttpCounters & { readonly connections: number; readonly maxConnections: number })
    | null;
  readonly storage: StorageStats & {
    readonly persistLatency: LatencySummary;
  };
  readonly recovery: {
    readonly durationMs: number;
    readonly fresh: boolean;
    readonly segments: number;
    readonly records: number;
    readonly snapshotIndex: number | null;
    readonly entries: number;
    readonly truncatedTail: RecoveryReport["truncatedTail"] | null;
    readonly fallbacks: RecoveryReport["fallbacks"];
    readonly discarded: readonly string[];
    readonly staleLockPid: number | null;
  };
  /** The protocol's own details (CoreStatus.details). */
  readonly details: Value | null;
}
