import type { ReplicaId } from "../../core/ids.js";
import { isPlainObject } from "../../core/schema.js";
import type { Value } from "../../core/value.js";

/**
 * PBFT's settings (ClusterConfig.settings when protocol is "pbft"). Every field is optional in
 * the configuration; docs/protocols/pbft.md lists them with their defaults and costs.
 */
export interface PbftSettings {
  /** K: a checkpoint every this many sequence numbers (OSDI'99 §4.3). */
  readonly checkpointInterval: number;
  /** L: sequence numbers accepted above the stable checkpoint (h, h+L]; a multiple of K. */
  readonly windowSize: number;
  /** Requests in one batch (one pre-prepare). */
  readonly maxBatchRequests: number;
  /** Request bytes in one batch. */
  readonly maxBatchBytes: number;
  /** Batches pre-prepared and not yet executed at once (pipelining). */
  readonly maxInFlight: number;
  /** Requests the primary holds waiting for a sequence number; more are answered `busy`. */
  readonly maxQueued: number;
  /** Requests larger than this (encoded bytes) travel as their own message, not inside the pre-prepare. */
  readonly inlineRequestBytes: number;
  /**
   * Ticks a replica holding a request waits without any execution (§4.4's timer, restarted on
   * every execution while requests are still held) before it starts a view change.
   */
  readonly requestTimeoutTicks: number;
  /**
   * Ticks one held request may wait in all, however busy the group is executing others: the
   * bound on a primary that orders everyone's requests but one client's.
   */
  readonly maxRequestWaitTicks: number;
  /** Ticks a replica waits for a view change to finish; doubled on each consecutive one (§4.5.2). */
  readonly viewChangeTicks: number;
  /** Cap on the doubled view-change wait. */
  readonly maxViewChangeTicks: number;
  /** Ticks between retransmissions of the replica's own unanswered messages. */
  readonly retransmitTicks: number;
  /** How far (ms) a primary's proposed time may run ahead of a backup's clock (§4.6). */
  readonly timeBoundMs: number;
  /** Bytes per state-transfer chunk (and per leaf of the state digest's Merkle tree). */
  readonly chunkBytes: number;
  /** Only the designated replica sends the full result; others send its digest (§5.1.1). */
  readonly digestReplies: boolean;
  /**
   * Queries go to every replica and are answered without ordering (§5.1.3). Linearizable only
   * if ordered requests also wait for 2f+1 matching replies (TOCS §5.1.3), so with this on the
   * client needs 2f+1 for everything; off, queries are ordered and commands need f+1.
   */
  readonly readOnlyQueries: boolean;
  /**
   * Execute a prepared batch before it commits and reply tentatively (§5.1.2; tentative.ts): one
   * message delay less for the client, which then needs 2f+1 matching replies from one view.
   */
  readonly tentativeExecution: boolean;
  /**
   * The replicas that take part (vote, lead in turn, answer clients), ascending; undefined: every
   * replica in the address book. The others are spares: they run, drop what they are sent, and
   * take no part. f derives from the members' count. At least 4, each an address-book id.
   */
  readonly members: readonly ReplicaId[] | undefined;
}

export const defaultPbftSettings: PbftSettings = {
  checkpointInterval: 128,
  windowSize: 256,
  maxBatchRequests: 128,
  maxBatchBytes: 1 << 20,
  maxInFlight: 1,
  maxQueued: 4096,
  inlineRequestBytes: 8192,
  requestTimeoutTicks: 100,
  maxRequestWaitTicks: 800,
  viewChangeTicks: 100,
  maxViewChangeTicks: 3200,
  retransmitTicks: 10,
  timeBoundMs: 5000,
  chunkBytes: 64 * 1024,
  digestReplies: true,
  readOnlyQueries: true,
  tentativeExecution: true,
  members: undefined,
};

type BooleanSetting = "digestReplies" | "readOnlyQueries" | "tentativeExecution";
const booleanSettings: ReadonlySet<string> = new Set<BooleanSetting>([
  "digestReplies",
  "readOnlyQueries",
  "tentativeExecution",
]);

const intBounds: Record<
  Exclude<keyof PbftSettings, BooleanSetting | "members">,
  readonly [number, number]
> = {
  checkpointInterval: [1, 1 << 20],
  windowSize: [1, 1 << 12],
  maxBatchRequests: [1, 256],
  maxBatchBytes: [1024, 1 << 26],
  maxInFlight: [1, 1 << 12],
  maxQueued: [1, 1 << 20],
  inlineRequestBytes: [0, 1 << 24],
  requestTimeoutTicks: [2, 1_000_000],
  maxRequestWaitTicks: [2, 100_000_000],
  viewChangeTicks: [2, 1_000_000],
  maxViewChangeTicks: [2, 100_000_000],
  retransmitTicks: [1, 1_000_000],
  timeBoundMs: [0, 86_400_000],
  chunkBytes: [64, 1 << 24],
};

/**
 * Checks untrusted PBFT settings and returns them complete; throws one Error naming every bad
 * field. `replicaCount` (the address book's size), when given, bounds `members`.
 */
export function parsePbftSettings(settings: unknown, replicaCount?: number): PbftSettings {
  if (settings === undefined || settings === null) return defaultPbftSettings;
  if (!isPlainObject(settings)) throw new Error("pbft settings: expected an object");
  const problems: string[] = [];
  const out: Record<string, unknown> = { ...defaultPbftSettings };
  for (const [key, raw] of Object.entries(settings) as [string, Value][]) {
    if (!Object.hasOwn(defaultPbftSettings, key)) {
      problems.push(`${key}: unknown pbft setting`);
    } else if (booleanSettings.has(key)) {
      if (typeof raw !== "boolean") problems.push(`${key}: expected a boolean, got ${show(raw)}`);
      else out[key] = raw;
    } else if (key === "members") {
      const members = parseMembers(raw, replicaCount, problems);
      if (members) out[key] = members;
    } else {
      const [min, max] = intBounds[key as keyof typeof intBounds];
      if (typeof raw !== "number" || !Number.isInteger(raw) || raw < min || raw > max) {
        problems.push(`${key}: expected an integer from ${min} to ${max}, got ${show(raw)}`);
      } else out[key] = raw;
    }
  }
  // Unset, the overall bound follows the request timer (8 of its periods), so raising one alone
  // never makes the pair inconsistent.
  if (
    !Object.hasOwn(settings, "maxRequestWaitTicks") &&
    typeof out.requestTimeoutTicks === "number"
  ) {
    out.maxRequestWaitTicks = Math.min(
      out.requestTimeoutTicks * 8,
      intBounds.maxRequestWaitTicks[1],
    );
  }
  const s = out as unknown as PbftSettings;
  if (problems.length === 0) {
    if (s.windowSize % s.checkpointInterval !== 0 || s.windowSize < 2 * s.checkpointInterval) {
      problems.push(
        `windowSize: must be a multiple of checkpointInterval and at least twice it (so the next checkpoint can become stable while the window is full), got ${s.windowSize} with checkpointInterval ${s.checkpointInterval}`,
      );
    }
    if (s.maxRequestWaitTicks < s.requestTimeoutTicks) {
      problems.push("maxRequestWaitTicks: must be at least requestTimeoutTicks");
    }
    if (s.maxViewChangeTicks < s.viewChangeTicks) {
      problems.push("maxViewChangeTicks: must be at least viewChangeTicks");
    }
  }
  if (problems.length > 0) throw new Error(problems.join("; "));
  return s;
}

/** Members need f ≥ 1: 3f+1 = 4 replicas at least. */
export const minMembers = 4;

function parseMembers(
  raw: Value,
  replicaCount: number | undefined,
  problems: string[],
): readonly ReplicaId[] | undefined {
  if (!Array.isArray(raw) || raw.length < minMembers) {
    problems.push(
      `members: expected an array of at least ${minMembers} replica ids, got ${show(raw)}`,
    );
    return undefined;
  }
  const limit = replicaCount ?? 1024;
  const seen = new Set<number>();
  for (const id of raw) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= limit) {
      problems.push(`members: ${show(id)} is not a replica id below ${limit}`);
      return undefined;
    }
    if (seen.has(id)) {
      problems.push(`members: replica ${id} listed twice`);
      return undefined;
    }
    seen.add(id);
  }
  return [...seen].sort((a, b) => a - b);
}

function show(v: Value): string {
  return JSON.stringify(v) ?? String(v);
}
