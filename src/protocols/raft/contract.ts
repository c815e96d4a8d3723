import type { ClusterConfig } from "../../core/config.js";
import type { LogEntry } from "../../core/log-entry.js";
import type {
  CoreStatus,
  DurableRules,
  ReplicaCountRule,
  SnapshotMeta,
  StatusDeclaration,
} from "../../core/protocol.js";
import { isPlainObject } from "../../core/schema.js";
import type { Value } from "../../core/value.js";
import { parseRaftSettings } from "./settings.js";
import { snapshotTerm } from "./snapshot-meta.js";
import type { RaftStatusRole } from "./types.js";

/**
 * What Raft declares to the contract (core/protocol.ts ProtocolDefinition): how many replicas,
 * its durable-log rules, how to read its status, how many replies a client needs, and how to
 * check its settings. Kept apart from the protocol's rules so that the contract's glue is one
 * small file.
 */

/** 2f+1 replicas tolerate f crashes. */
export const raftReplicaCount: ReplicaCountRule = {
  replicasFor: (f) => 2 * f + 1,
  faultsTolerated: (n) => Math.max(0, Math.floor((n - 1) / 2)),
};

/**
 * Raft's log is gap-free, and by log matching an entry with the snapshot's index and term
 * vouches for everything the snapshot covered, so the log may stand in for a lost snapshot.
 */
export const raftDurableRules: DurableRules = {
  gapFree: true,
  logCoversSnapshot(meta: SnapshotMeta, entry: LogEntry | undefined): boolean {
    return entry !== undefined && entry.index === meta.index && entry.term === snapshotTerm(meta);
  },
};

const roles: readonly RaftStatusRole[] = [
  "leader",
  "candidate",
  "precandidate",
  "follower",
  "learner",
];

function ids(details: Value | undefined, field: string): readonly number[] | undefined {
  if (!isPlainObject(details)) return undefined;
  const v = details[field];
  return Array.isArray(v) && v.every((x) => typeof x === "number") ? (v as number[]) : undefined;
}

/** Raft's status: leader of its term; a (pre)candidate campaigns; voters and learners in details. */
export const raftStatus: StatusDeclaration = {
  roles,
  epochName: "term",
  leads: (s: CoreStatus) => s.role === "leader",
  campaigning: (s: CoreStatus) => s.role === "candidate" || s.role === "precandidate",
  members(s: CoreStatus) {
    const voters = ids(s.details, "voters");
    if (!voters) return undefined;
    return { voters, learners: ids(s.details, "learners") ?? [] };
  },
};

/** Every problem with the Raft settings of `config`, one string each. */
export function validateRaftSettings(config: ClusterConfig): readonly string[] {
  try {
    parseRaftSettings(config.settings, config.replicas.length);
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}
