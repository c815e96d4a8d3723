import { isPlainObject } from "../../core/schema.js";
import type { Value } from "../../core/value.js";

/**
 * Raft's protocol settings (ClusterConfig.settings when protocol is "raft"). Every field is
 * optional in the configuration; `parseRaftSettings` fills in the defaults documented here and
 * in docs/protocols/raft.md.
 */
export interface RaftSettings {
  /** Base election timeout in ticks; each wait is drawn uniformly from [electionTicks, 2·electionTicks). */
  readonly electionTicks: number;
  /** A leader sends heartbeats every this many ticks (must be below electionTicks). */
  readonly heartbeatTicks: number;
  /** Run a pre-vote round before a real election (dissertation 9.6), so partitioned nodes do not inflate terms. */
  readonly preVote: boolean;
  /** A leader that has not heard from a quorum within an election timeout steps down (dissertation 6.2). */
  readonly checkQuorum: boolean;
  /** At most this many AppendEntries messages in flight to one follower. */
  readonly maxInflight: number;
  /** At most this many entries in one AppendEntries message. */
  readonly maxEntriesPerMessage: number;
  /** Approximate byte bound of the entries in one AppendEntries message (one entry is always allowed). */
  readonly maxBytesPerMessage: number;
  /** At most this many client commands in one log entry. */
  readonly maxBatchCommands: number;
  /** Ask the service for a snapshot every this many applied entries; 0 = never. */
  readonly snapshotEvery: number;
  /** Entries kept in memory below a snapshot, so slightly lagging followers need no snapshot. */
  readonly compactionSlack: number;
  /** Size of one InstallSnapshot chunk in bytes. */
  readonly snapshotChunkBytes: number;
  /** A learner is promoted to voter once its match index is within this many entries of the leader's last index. */
  readonly learnerCatchUpEntries: number;
  /** Serve reads from a leader lease (needs checkQuorum and bounded clock drift) instead of a ReadIndex round. */
  readonly leaseReads: boolean;
  /** Assumed bound on relative clock drift for lease reads (0.1 = clocks may run 10% apart). */
  readonly maxClockDrift: number;
  /** Ticks without progress before a leader resends to a follower (probe, pipeline or snapshot chunk). */
  readonly retransmitTicks: number;
  /** Bound on the commands and on the reads a replica remembers to answer (admin requests: limits.raftMaxAdminWaiters). */
  readonly maxPendingRequests: number;
  /** Voting members at the start; undefined = every replica of the address book. */
  readonly initialVoters: readonly number[] | undefined;
}

export const defaultRaftSettings: RaftSettings = {
  electionTicks: 10,
  heartbeatTicks: 2,
  preVote: true,
  checkQuorum: true,
  maxInflight: 64,
  maxEntriesPerMessage: 64,
  maxBytesPerMessage: 1 << 20,
  maxBatchCommands: 256,
  snapshotEvery: 10_000,
  compactionSlack: 100,
  snapshotChunkBytes: 64 * 1024,
  learnerCatchUpEntries: 16,
  leaseReads: false,
  maxClockDrift: 0.1,
  retransmitTicks: 6,
  maxPendingRequests: 10_000,
  initialVoters: undefined,
};

type IntField = Exclude<
  { [K in keyof RaftSettings]: RaftSettings[K] extends number ? K : never }[keyof RaftSettings],
  "maxClockDrift"
>;

const intBounds: Record<IntField, readonly [number, number]> = {
  electionTicks: [2, 1_000_000],
  heartbeatTicks: [1, 1_000_000],
  maxInflight: [1, 1 << 16],
  maxEntriesPerMessage: [1, 1 << 16],
  maxBytesPerMessage: [1024, 1 << 30],
  maxBatchCommands: [1, 1 << 16],
  snapshotEvery: [0, Number.MAX_SAFE_INTEGER],
  compactionSlack: [0, 1 << 30],
  snapshotChunkBytes: [1, 1 << 24],
  learnerCatchUpEntries: [0, 1 << 30],
  retransmitTicks: [1, 1_000_000],
  maxPendingRequests: [1, 1 << 24],
};

/**
 * Checks untrusted Raft settings and returns them complete. Throws one Error naming every bad
 * field. `replicaCount` (the address book size), when given, bounds `initialVoters`.
 */
export function parseRaftSettings(settings: unknown, replicaCount?: number): RaftSettings {
  const problems: string[] = [];
  if (settings === undefined || settings === null) return defaultRaftSettings;
  if (!isPlainObject(settings)) throw new Error("raft settings: expected an object");
  const out: Record<string, unknown> = { ...defaultRaftSettings };
  for (const [key, raw] of Object.entries(settings) as [string, Value][]) {
    // Own keys only: "constructor" or "__proto__" must be unknown settings, not prototype members.
    if (!Object.hasOwn(defaultRaftSettings, key)) {
      problems.push(`${key}: unknown raft setting`);
      continue;
    }
    if (key === "preVote" || key === "checkQuorum" || key === "leaseReads") {
      if (typeof raw !== "boolean") problems.push(`${key}: expected a boolean, got ${show(raw)}`);
      else out[key] = raw;
    } else if (key === "maxClockDrift") {
      if (typeof raw !== "number" || !Number.isFinite(raw) || raw < 0 || raw >= 1) {
        problems.push(`maxClockDrift: expected a number in [0, 1), got ${show(raw)}`);
      } else out[key] = raw;
    } else if (key === "initialVoters") {
      const voters = parseVoters(raw, replicaCount, problems);
      if (voters) out[key] = voters;
    } else {
      const [min, max] = intBounds[key as IntField];
      if (typeof raw !== "number" || !Number.isInteger(raw) || raw < min || raw > max) {
        problems.push(`${key}: expected an integer from ${min} to ${max}, got ${show(raw)}`);
      } else out[key] = raw;
    }
  }
  const result = out as unknown as RaftSettings;
  if (problems.length === 0) {
    if (result.heartbeatTicks >= result.electionTicks) {
      problems.push(
        `heartbeatTicks: must be below electionTicks (${result.electionTicks}), got ${result.heartbeatTicks}`,
      );
    }
    if (result.leaseReads && !result.checkQuorum) {
      problems.push("leaseReads: lease reads need checkQuorum: true");
    }
  }
  if (problems.length > 0) throw new Error(`invalid raft settings: ${problems.join("; ")}`);
  return result;
}

function parseVoters(
  raw: Value,
  replicaCount: number | undefined,
  problems: string[],
): number[] | undefined {
  if (raw === null) return undefined;
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push(`initialVoters: expected a non-empty array of replica ids, got ${show(raw)}`);
    return undefined;
  }
  const seen = new Set<number>();
  for (const id of raw as readonly Value[]) {
    const limit = replicaCount ?? 1024;
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= limit) {
      problems.push(`initialVoters: ${show(id)} is not a replica id below ${limit}`);
      return undefined;
    }
    if (seen.has(id)) {
      problems.push(`initialVoters: replica ${id} listed twice`);
      return undefined;
    }
    seen.add(id);
  }
  return [...seen].sort((a, b) => a - b);
}

function show(v: Value | undefined): string {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  return JSON.stringify(v) ?? String(v);
}
