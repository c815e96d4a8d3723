import type { ReplicaId, Term } from "../../core/ids.js";

/** The membership of a Raft cluster: the shape of config entries and of SnapshotMeta.config. */
export type Membership = {
  /** Replicas that vote and count toward quorums, sorted ascending. */
  readonly voters: readonly ReplicaId[];
  /** Non-voting replicas that receive the log (catching up before promotion), sorted ascending. */
  readonly learners: readonly ReplicaId[];
};

/** What Raft keeps in PersistOp hardState: the current term and the vote cast in it. */
export type RaftHardState = {
  readonly term: Term;
  readonly vote: ReplicaId | null;
  /**
   * Time of the last entry covered by the replica's snapshot, present once it has one: after a
   * restart with no entries beyond the snapshot, new entries must still not go back in time.
   */
  readonly snapshotTime?: number;
};

export type RaftRole = "follower" | "precandidate" | "candidate" | "leader";

/** Roles reported by status(): followers that do not vote are reported as learners. */
export type RaftStatusRole = RaftRole | "learner";

/**
 * Deliberately broken variants of known Raft mistakes, so the simulator can show it catches them.
 * Each one is a small branch marked `PLANTED BUG` in the code.
 */
export type RaftPlantedBug =
  /** Commit any entry stored on a quorum, even one of an older term (violates the Figure 8 rule). */
  | "commit-old-term-by-counting"
  /** Grant a vote in a term even after voting for someone else in it. */
  | "double-vote"
  /** Grant a vote before it is durable (after = 0) and leave it out of the hard state. */
  | "vote-not-persisted"
  /** Hand entries to the service as soon as they are appended, before they commit. */
  | "apply-before-commit"
  /** Accept AppendEntries from a lower term as if it were current. */
  | "stale-term-append-accepted"
  /**
   * Serve reads at once, without the heartbeat round that confirms leadership: as leader, and as
   * a deposed leader that has heard of no newer term.
   */
  | "read-index-without-quorum"
  /** Grant votes and pre-votes without checking that the candidate's log is at least as up to date. */
  | "vote-without-log-check"
  /** Acknowledge AppendEntries before the entries are durable (after = 0). */
  | "ack-before-persist"
  /**
   * Check a read's lease against the clock of the last tick rather than the time the read
   * arrived (lockstep before issue 11): after a process pause the lease looks fresh.
   */
  | "lease-read-stale-clock";

export const raftPlantedBugs: readonly RaftPlantedBug[] = [
  "commit-old-term-by-counting",
  "double-vote",
  "vote-not-persisted",
  "apply-before-commit",
  "stale-term-append-accepted",
  "read-index-without-quorum",
  "vote-without-log-check",
  "ack-before-persist",
  "lease-read-stale-clock",
];

/** Throws when a protocol invariant does not hold: a bug in this core (or a planted one). */
export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new Error(`raft invariant violated: ${message()}`);
}
