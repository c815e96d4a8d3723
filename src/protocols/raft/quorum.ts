import type { ReplicaId } from "../../core/ids.js";
import type { Membership } from "./types.js";

/**
 * Majorities over a membership's voters: how many make a quorum, whether those for which a
 * predicate holds form one, and the largest value a quorum has reached (the commit rule and
 * leases). Learners never count.
 */

export function quorum(m: Membership): number {
  return Math.floor(m.voters.length / 2) + 1;
}

/** True when the voters for which `yes` holds form a quorum. */
export function hasQuorum(m: Membership, yes: (id: ReplicaId) => boolean): boolean {
  let count = 0;
  for (const v of m.voters) if (yes(v)) count++;
  return count >= quorum(m);
}

/** The largest value that a quorum of voters has reached (voters without a value count 0). */
export function quorumValue(m: Membership, of: (id: ReplicaId) => number): number {
  if (m.voters.length === 0) return 0;
  const values = m.voters.map(of).sort((a, b) => b - a);
  return values[quorum(m) - 1] ?? 0;
}
