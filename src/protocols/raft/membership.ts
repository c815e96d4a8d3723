import type { LogIndex, ReplicaId } from "../../core/ids.js";
import type { LogEntry } from "../../core/log-entry.js";
import { isPlainObject } from "../../core/schema.js";
import type { Value } from "../../core/value.js";
import { invariant, type Membership } from "./types.js";

export function makeMembership(
  voters: Iterable<ReplicaId>,
  learners: Iterable<ReplicaId>,
): Membership {
  const v = [...new Set(voters)].sort((a, b) => a - b);
  const voterSet = new Set(v);
  const l = [...new Set(learners)].filter((id) => !voterSet.has(id)).sort((a, b) => a - b);
  return { voters: v, learners: l };
}

export function isVoter(m: Membership, id: ReplicaId): boolean {
  return m.voters.includes(id);
}

export function isMember(m: Membership, id: ReplicaId): boolean {
  return m.voters.includes(id) || m.learners.includes(id);
}

export function members(m: Membership): ReplicaId[] {
  return [...m.voters, ...m.learners];
}

/** Reads a membership from a config entry or snapshot meta; throws on a malformed one. */
export function parseMembership(v: Value, replicaCount: number): Membership {
  const ok =
    isPlainObject(v) &&
    Array.isArray(v.voters) &&
    Array.isArray(v.learners) &&
    [...v.voters, ...v.learners].every(
      (id) => typeof id === "number" && Number.isInteger(id) && id >= 0 && id < replicaCount,
    );
  invariant(ok, () => `malformed raft membership ${JSON.stringify(v)}`);
  const m = v as unknown as Membership;
  return makeMembership(m.voters, m.learners);
}

export function sameMembership(a: Membership, b: Membership): boolean {
  return (
    a.voters.length === b.voters.length &&
    a.learners.length === b.learners.length &&
    a.voters.every((id, i) => b.voters[i] === id) &&
    a.learners.every((id, i) => b.learners[i] === id)
  );
}

export function describeMembership(m: Membership): string {
  return `voters [${m.voters.join(",")}] learners [${m.learners.join(",")}]`;
}

/**
 * The memberships the log has gone through. A config entry takes effect as soon as it is in the
 * log (dissertation 4.1), so the current membership is the one of the last config entry, and it
 * reverts when that entry is truncated. `base` is the membership in force at `baseIndex` (the
 * compaction point or 0); `changes` are the config entries above it.
 */
export class ConfigHistory {
  private baseIndex: LogIndex;
  private base: Membership;
  private changes: { index: LogIndex; config: Membership }[] = [];

  constructor(
    baseIndex: LogIndex,
    base: Membership,
    private readonly replicaCount: number,
  ) {
    this.baseIndex = baseIndex;
    this.base = base;
  }

  /** The membership in force now (of the last config entry in the log). */
  get latest(): Membership {
    return this.changes.at(-1)?.config ?? this.base;
  }

  /** Index of the last config entry in the log (or the base index). */
  get latestIndex(): LogIndex {
    return this.changes.at(-1)?.index ?? this.baseIndex;
  }

  /** The membership in force at `index` (which must not be below the base). */
  at(index: LogIndex): Membership {
    invariant(index >= this.baseIndex, () => `membership at ${index} below base ${this.baseIndex}`);
    let m = this.base;
    for (const c of this.changes) {
      if (c.index > index) break;
      m = c.config;
    }
    return m;
  }

  onAppend(entries: readonly LogEntry[]): void {
    for (const e of entries) {
      if (e.payload.type === "config") {
        this.changes.push({
          index: e.index,
          config: parseMembership(e.payload.config, this.replicaCount),
        });
      }
    }
  }

  onTruncate(from: LogIndex): void {
    this.changes = this.changes.filter((c) => c.index < from);
  }

  /** Forgets history at or below `index`, keeping the membership in force there as the base. */
  compact(index: LogIndex): void {
    if (index <= this.baseIndex) return;
    this.base = this.at(index);
    this.baseIndex = index;
    this.changes = this.changes.filter((c) => c.index > index);
  }

  /** After installing a snapshot at `index`; `keepLog` when entries above it were kept. */
  reset(index: LogIndex, config: Membership, keepLog: boolean): void {
    this.base = config;
    this.baseIndex = index;
    this.changes = keepLog ? this.changes.filter((c) => c.index > index) : [];
  }
}
