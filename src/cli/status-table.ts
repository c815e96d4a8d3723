import type { ReplicaStatus } from "../runtime/status.js";

/**
 * What `lockstep status` learned about one replica: its /status, or why there is none.
 * `unreachable` (host:port) marks a status endpoint that did not answer at all: that says
 * nothing about the replica itself (the endpoint may listen elsewhere, or be firewalled).
 */
export type ReplicaProbe =
  | { readonly replica: number; readonly status: ReplicaStatus }
  | { readonly replica: number; readonly error: string; readonly unreachable?: string };

export interface ClusterHealth {
  readonly total: number;
  readonly answering: number;
  /** Replicas whose status endpoint could not be reached (they may well be up). */
  readonly unreachable: number;
  /** The newest term any answering replica is in. */
  readonly term: number | undefined;
  /** Replicas claiming leadership in that term (Raft allows at most one). */
  readonly leaders: readonly ReplicaStatus[];
  /** Replicas that must answer: a majority, or 2f+1 of 3f+1 for a Byzantine protocol (pbft). */
  readonly quorum: number;
  /** What the answering replicas call a term ("term", "view", "epoch") and a leader. */
  readonly epochName: string;
  readonly leaderName: string;
  /** A quorum answers and exactly one replica leads in the newest term. */
  readonly healthy: boolean;
}

/** Replicas that must answer for the cluster to make progress under `protocol`. */
function quorumOf(protocol: string | undefined, n: number): number {
  if (protocol === "pbft") return n - Math.floor((n - 1) / 3);
  // A live primary serves alone (its arbiter, not a majority, decided it): one is enough.
  if (protocol === "primary-backup") return 1;
  return Math.floor(n / 2) + 1;
}

export function assessCluster(probes: readonly ReplicaProbe[]): ClusterHealth {
  const answers = probes.flatMap((p) => ("status" in p ? [p.status] : []));
  const term = answers.length === 0 ? undefined : Math.max(...answers.map((s) => s.term));
  const leaders = answers.filter((s) => s.leads && s.term === term);
  const protocol = answers[0]?.protocol;
  const quorum = quorumOf(protocol, probes.length);
  return {
    total: probes.length,
    answering: answers.length,
    unreachable: probes.filter((p) => "unreachable" in p && p.unreachable !== undefined).length,
    term,
    leaders,
    quorum,
    epochName: answers[0]?.epochName ?? "term",
    leaderName: protocol === "pbft" ? "primary" : "leader",
    healthy: answers.length >= quorum && leaders.length === 1,
  };
}

export function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}

/** The columns; PBFT adds its stable checkpoint after the snapshot. */
function headerFor(health: ClusterHealth, pbft: boolean): string[] {
  const columns = [...baseHeader];
  columns[2] = health.epochName;
  columns[3] = health.leaderName;
  if (pbft) columns.splice(columns.indexOf("snapshot") + 1, 0, "checkpoint");
  return columns;
}

const baseHeader = [
  "replica",
  "role",
  "term",
  "leader",
  "commit",
  "applied",
  "last index",
  "lag",
  "snapshot",
  "peers",
  "uptime",
  "pid",
];

/** PBFT's stable checkpoint, from the protocol's status details; "-" for other protocols. */
function stableCheckpoint(s: ReplicaStatus): string {
  const details = s.details as { stableCheckpoint?: unknown } | null;
  const seq = details?.stableCheckpoint;
  return typeof seq === "number" ? String(seq) : "-";
}

/** The role, and loudly the behaviour of a replica started with --byzantine (tests, demos). */
function role(s: ReplicaStatus): string {
  const details = s.details as { byzantine?: unknown } | null;
  const behaviour = details?.byzantine;
  return typeof behaviour === "string" ? `${s.role} BYZANTINE:${behaviour}` : s.role;
}

function row(s: ReplicaStatus, leader: ReplicaStatus | undefined, total: number): string[] {
  // Lag is measured against the leader's commit index: how far this replica's state machine is
  // behind what the cluster has decided.
  const lag =
    leader === undefined || leader.replica === s.replica
      ? "-"
      : String(Math.max(0, leader.commitIndex - s.appliedIndex));
  return [
    `r${s.replica}`,
    role(s),
    String(s.term),
    s.leader === null ? "-" : `r${s.leader}`,
    String(s.commitIndex),
    String(s.appliedIndex),
    String(s.lastIndex),
    lag,
    String(s.snapshotIndex),
    ...(s.protocol === "pbft" ? [stableCheckpoint(s)] : []),
    `${s.peersConnected.length}/${total - 1}`,
    formatUptime(s.uptimeSeconds),
    String(s.pid),
  ];
}

/** The status table: one row per replica, unreachable ones as "down (reason)". */
export function formatStatusTable(probes: readonly ReplicaProbe[], health: ClusterHealth): string {
  const leader = health.leaders.length === 1 ? health.leaders[0] : undefined;
  const pbft = probes.some((p) => "status" in p && p.status.protocol === "pbft");
  const header = headerFor(health, pbft);
  const rows = probes.map((p) => {
    if ("status" in p) return row(p.status, leader, probes.length);
    if (p.unreachable !== undefined) {
      return [
        `r${p.replica}`,
        `no status endpoint reachable at ${p.unreachable} (${p.error}); the replica may be up`,
      ];
    }
    return [`r${p.replica}`, `unknown (${p.error})`];
  });
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.filter((r) => r.length === header.length).map((r) => r[i]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** "leader: r1 (term 4); 3/3 replicas answering", or why there is no single leader. */
export function formatSummary(health: ClusterHealth): string {
  const answering = `${health.answering}/${health.total} replicas answering`;
  // Silence from a status endpoint is not a dead replica: say only what is known.
  const majority =
    health.answering >= health.quorum
      ? ""
      : health.unreachable > 0
        ? ` (${health.unreachable} status endpoint(s) unreachable: those replicas may be up; check where their /status listens)`
        : ` (fewer than ${health.quorum} answering: no quorum)`;
  const [leader, ...others] = health.leaders;
  if (leader === undefined) {
    const none = `no ${health.leaderName}${health.answering > 0 ? "" : " known"}`;
    return `${none}; ${answering}${majority}`;
  }
  if (others.length > 0) {
    const names = health.leaders.map((s) => `r${s.replica}`).join(", ");
    return `no single ${health.leaderName}: ${names} all claim ${health.epochName} ${leader.term}; ${answering}${majority}`;
  }
  return `${health.leaderName}: r${leader.replica} (${health.epochName} ${leader.term}); ${answering}${majority}`;
}

/** The --json form: each replica's /status, or {replica, error}. */
export function statusJson(probes: readonly ReplicaProbe[]): unknown[] {
  return probes.map((p) => ("status" in p ? p.status : { replica: p.replica, error: p.error }));
}
