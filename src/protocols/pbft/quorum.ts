import type { ReplicaId } from "../../core/ids.js";

/**
 * Replica counts for Byzantine faults. With n replicas PBFT tolerates f = ⌊(n−1)/3⌋ faulty ones.
 * For n = 3f+1 the quorum is 2f+1; for other n (a cluster between sizes, e.g. during
 * reconfiguration) the quorum is ⌊(n+f)/2⌋+1, the smallest size whose any two sets share at least
 * f+1 replicas, hence one correct one. A weak certificate (f+1) holds at least one correct replica.
 */
export interface Quorums {
  readonly n: number;
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

export function quorumsFor(n: number): Quorums {
  const f = faultsTolerated(n);
  const quorum = Math.floor((n + f) / 2) + 1;
  // Two quorums overlap in 2·quorum − n replicas; that must exceed f.
  if (2 * quorum - n < f + 1 || quorum > n - f) {
    throw new Error(`invariant: quorum ${quorum} of ${n} with f=${f}`);
  }
  return { n, f, quorum, weak: f + 1, prepares: quorum - 1 };
}

/** The primary of a view: v mod n (OSDI'99 §4.1). */
export function primaryOf(view: number, n: number): ReplicaId {
  return view % n;
}

export function isReplica(id: number, n: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < n;
}

/**
 * Counts distinct replicas. Returns undefined if any id is a duplicate or not a replica, so a
 * certificate that names a sender twice, or a stranger, is refused rather than counted short.
 */
export function distinctReplicas(ids: Iterable<number>, n: number): number | undefined {
  const seen = new Set<number>();
  for (const id of ids) {
    if (!isReplica(id, n) || seen.has(id)) return undefined;
    seen.add(id);
  }
  return seen.size;
}
