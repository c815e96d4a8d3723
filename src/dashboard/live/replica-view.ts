import type { ReplicaStatus } from "../../runtime/status.js";
import type { ClusterView, ReplicaView, ViewField } from "../web/shared/live-wire.js";
import type { ClusterSample, ReplicaSample } from "./replica-sample.js";
import { replicaIn } from "./replica-sample.js";
import { clusterLeader } from "./timeline-differ.js";

function detail(s: ReplicaStatus, key: string): unknown {
  const details = s.details;
  if (typeof details !== "object" || details === null || Array.isArray(details)) return undefined;
  return (details as { [k: string]: unknown })[key];
}

function text(value: unknown): string {
  if (value === null || value === undefined) return "-";
  return typeof value === "number" || typeof value === "string" ? String(value) : "-";
}

/** How far this replica's state machine is behind the leader's commit index (as lockstep status). */
function lag(s: ReplicaStatus, leader: ReplicaStatus | undefined): string {
  if (leader === undefined || leader.replica === s.replica) return "-";
  return String(Math.max(0, leader.commitIndex - s.appliedIndex));
}

/** The protocol's own columns: what `lockstep status` prints for it, and a little more. */
export function protocolFields(s: ReplicaStatus, leader: ReplicaStatus | undefined): ViewField[] {
  const who = (id: number | null) => (id === null ? "-" : `r${id}`);
  if (s.protocol === "pbft") {
    return [
      { label: "view", value: String(s.term) },
      { label: "primary", value: who(s.leader) },
      { label: "executed", value: String(s.commitIndex) },
      { label: "last seq", value: String(s.lastIndex) },
      { label: "stable checkpoint", value: text(detail(s, "stableCheckpoint")) },
      {
        label: "water marks",
        value: `${text(detail(s, "lowWaterMark"))}..${text(detail(s, "highWaterMark"))}`,
      },
      { label: "lag", value: lag(s, leader) },
    ];
  }
  if (s.protocol === "primary-backup") {
    return [
      { label: "epoch", value: String(s.term) },
      { label: "primary", value: who(s.leader) },
      { label: "commit", value: String(s.commitIndex) },
      { label: "applied", value: String(s.appliedIndex) },
      { label: "last index", value: String(s.lastIndex) },
      { label: "backup lag", value: text(detail(s, "backupLag")) },
      { label: "paired with", value: who((detail(s, "pairedWith") as number | null) ?? null) },
    ];
  }
  return [
    { label: s.epochName, value: String(s.term) },
    { label: "leader", value: who(s.leader) },
    { label: "commit", value: String(s.commitIndex) },
    { label: "applied", value: String(s.appliedIndex) },
    { label: "last index", value: String(s.lastIndex) },
    { label: "snapshot", value: String(s.snapshotIndex) },
    { label: "lag", value: lag(s, leader) },
  ];
}

/** CPU used between two polls of the same process, as a share of one core. */
function cpuPercent(before: ReplicaSample | undefined, now: ReplicaSample): number | null {
  const a = before?.status;
  const b = now.status;
  if (a === undefined || b === undefined || a.pid !== b.pid || before === undefined) return null;
  const wall = (now.at - before.at) / 1000;
  if (wall <= 0) return null;
  const cpu =
    b.process.cpuUserSeconds +
    b.process.cpuSystemSeconds -
    a.process.cpuUserSeconds -
    a.process.cpuSystemSeconds;
  return Math.max(0, (100 * cpu) / wall);
}

/** Every replica's row for the page. `note` is what a supervisor knows about it (or nothing). */
export function replicaViews(
  sample: ClusterSample,
  previous: ClusterSample | undefined,
  note: (id: number) => string | null,
): ReplicaView[] {
  const { leader } = clusterLeader(sample);
  const leaderStatus = leader === null ? undefined : replicaIn(sample, leader)?.status;
  return sample.replicas.map((r): ReplicaView => {
    const s = r.status;
    if (s === undefined) {
      return {
        replica: r.replica,
        up: false,
        reason: r.error ?? "no answer",
        supervisor: note(r.replica),
        role: "down",
        leads: false,
        fields: [],
        links: [],
        cpuPercent: null,
        residentBytes: null,
        pid: null,
        uptimeSeconds: null,
        byzantine: null,
      };
    }
    const behaviour = detail(s, "byzantine");
    return {
      replica: r.replica,
      up: true,
      reason: null,
      supervisor: note(r.replica),
      role: s.role,
      // Only the leader of the newest term: a cut-off leader of an older one still says it leads.
      leads: s.leads && r.replica === leader,
      fields: protocolFields(s, leaderStatus),
      // A supervisor's cut drops messages while the sockets (and their pings) stay up: say so.
      links: s.links.map((l) => ({
        peer: l.replica,
        state: s.linkCut?.cut === true ? `cut (socket ${l.state})` : l.state,
      })),
      cpuPercent: cpuPercent(previous && replicaIn(previous, r.replica), r),
      residentBytes: s.process.residentBytes,
      pid: s.pid,
      uptimeSeconds: s.uptimeSeconds,
      byzantine: typeof behaviour === "string" ? behaviour : null,
    };
  });
}

/** The cluster line. `arbiter` is primary/backup's arbiter summary (or null). */
export function clusterView(
  sample: ClusterSample,
  protocol: string,
  arbiter: string | null,
): ClusterView {
  const first = sample.replicas.find((r) => r.status)?.status;
  const { leader, term } = clusterLeader(sample);
  return {
    protocol,
    epochName:
      first?.epochName ?? (protocol === "pbft" ? "view" : protocol === "raft" ? "term" : "epoch"),
    leaderName: protocol === "pbft" || protocol === "primary-backup" ? "primary" : "leader",
    leader,
    term,
    answering: sample.replicas.filter((r) => r.status).length,
    total: sample.replicas.length,
    arbiter,
  };
}
