import type { ReplicaId } from "../../core/ids.js";

/**
 * Replica counts for Byzantine faults. With n replicas PBFT tolerates f = ⌊(n−1)/3⌋ faulty ones.
 * For n = 3f+1 the quorum is 2f+1; for other n (a cluster between sizes, e.g. during
 * reconfiguration) the quorum is ⌊(n+f)/2⌋+1, the smallest size whose any two sets share at least
 * f+1 replicas, hence one correct one. A weak certificate (f+1) holds at least one correct replica.
 */
export interface Quorums {
  /** The members' count (not the address book's: spares outside the membership do not count). */
  readonly n: number;
  /** The members, ascending: the replicas that vote, and the primaries in turn (view mod n). */
  readonly members: readonly ReplicaId[];
  readonly f: number;
  /** Strong certificate: any two intersect in a correct replica (2f+1 when n = 3f+1). */
  readonly quorum: number;
  /** Weak certificate: contains at least one correct replica (f+1). */
  readonly weak: number;
  /** Prepares needed besides the pre-prepare: quorum − 1 (2f), all from backups. */
  readonly prepares: number;
}

/** Replicas needed to tolerate f Byzantine faults: n(f) = 3f+1. */
export function replicasFor(f: number): number {
  if (!Number.isInteger(f) || f < 0) throw new RangeError(`f must be a natural number, got ${f}`);
  return 3 * f + 1;
}

/** Byzantine faults tolerated by n replicas. */
export function faultsTolerated(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be at least 1, got ${n}`);
  return Math.floor((n - 1) / 3);
}

/**
 * A membership: either a count n (the members are 0..n−1, the whole address book) or the member
 * ids themselves (PbftSettings.members: spares in the address book are not members).
 */
export type Membership = number | readonly ReplicaId[];

/** The member ids of a membership, ascending. */
export function membersOf(membership: Membership): readonly ReplicaId[] {
  if (typeof membership !== "number") return membership;
  return Array.from({ length: membership }, (_, i) => i);
}

/** Quorums for the whole address book of n replicas (members 0..n−1). */
export function quorumsFor(n: number): Quorums {
  return quorumsForMembers(membersOf(n));
}

/** Quorums for a set of members: f and the quorum derive from its size (see Quorums). */
export function quorumsForMembers(memberIds: readonly ReplicaId[]): Quorums {
  const members = [...memberIds].sort((a, b) => a - b);
  for (let i = 1; i < members.length; i++) {
    if (members[i] === members[i - 1]) throw new Error(`invariant: member ${members[i]} twice`);
  }
  const n = members.length;
  const f = faultsTolerated(n);
  const quorum = Math.floor((n + f) / 2) + 1;
  // Two quorums overlap in 2·quorum − n replicas; that must exceed f.
  if (2 * quorum - n < f + 1 || quorum > n - f) {
    throw new Error(`invariant: quorum ${quorum} of ${n} with f=${f}`);
  }
  return { n, members, f, quorum, weak: f + 1, prepares: quorum - 1 };
}

/** The primary of a view: the member at v mod n (OSDI'99 §4.1), members ascending. */
export function primaryOf(view: number, membership: Membership): ReplicaId {
  if (typeof membership === "number") return view % membership;
  return membership[view % membership.length]!;
}

/** Whether `id` is a member (for a count n: one of 0..n−1). */
export function isReplica(id: number, membership: Membership): boolean {
  if (typeof membership === "number") return Number.isInteger(id) && id >= 0 && id < membership;
  return membership.includes(id);
}

/**
 * Counts distinct replicas. Returns undefined if any id is a duplicate or not a replica, so a
 * certificate that names a sender twice, or a stranger, is refused rather than counted short.
 */
export function distinctReplicas(
  ids: Iterable<number>,
  membership: Membership,
): number | undefined {
  const seen = new Set<number>();
  for (const id of ids) {
    if (!isReplica(id, membership) || seen.has(id)) return undefined;
    seen.add(id);
  }
  return seen.size;
}
