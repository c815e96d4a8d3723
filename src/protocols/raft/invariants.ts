import type { LogIndex, Term } from "../../core/ids.js";
import { limits } from "../../core/limits.js";
import type { RaftNode } from "./node.js";
import { invariant } from "./types.js";

/**
 * What must hold for one replica after every step, checked by RaftCore.assertInvariants (the
 * simulator calls it after each step). Each check is O(1) or O(replicas) so that it can run
 * after every step; the per-append checks of log matching are in log.ts. Across replicas, one
 * leader per term is checked by the simulator's replication checker.
 */
export class InvariantWatch {
  private term: Term = 0;
  private commitIndex: LogIndex = 0;
  /** The term of the entry at commitIndex when it was last seen: committed entries never change. */
  private committedTerm: Term | undefined;
  private persistedUpTo = 0;

  check(n: RaftNode): void {
    // Terms and commit indexes only move forward.
    invariant(n.term >= this.term, () => `term went back from ${this.term} to ${n.term}`);
    invariant(
      n.commitIndex >= this.commitIndex,
      () => `commit index went back from ${this.commitIndex} to ${n.commitIndex}`,
    );
    invariant(
      n.persistedUpTo >= this.persistedUpTo,
      () => `persisted id went back from ${this.persistedUpTo} to ${n.persistedUpTo}`,
    );
    // Log matching for its own log: a committed entry is never replaced.
    const nowTerm = n.log.term(this.commitIndex);
    invariant(
      this.committedTerm === undefined || nowTerm === undefined || nowTerm === this.committedTerm,
      () =>
        `committed entry ${this.commitIndex} changed term from ${this.committedTerm} to ${nowTerm}`,
    );
    this.term = n.term;
    this.commitIndex = n.commitIndex;
    this.committedTerm = n.log.term(n.commitIndex);
    this.persistedUpTo = n.persistedUpTo;

    // applied ≤ handed to the driver ≤ committed ≤ last index; the snapshot is committed.
    invariant(
      n.applied <= n.appliedRequested,
      () => `applied ${n.applied} beyond what was handed out (${n.appliedRequested})`,
    );
    invariant(
      n.appliedRequested <= n.commitIndex,
      () => `entries up to ${n.appliedRequested} handed out for applying, commit ${n.commitIndex}`,
    );
    invariant(
      n.commitIndex <= n.log.lastIndex,
      () => `commit index ${n.commitIndex} beyond last index ${n.log.lastIndex}`,
    );
    const snapIndex = n.snapshot?.meta.index ?? 0;
    invariant(
      n.log.offset <= n.commitIndex && snapIndex <= n.commitIndex,
      () =>
        `compacted to ${n.log.offset} / snapshot at ${snapIndex} beyond commit ${n.commitIndex}`,
    );
    invariant(
      n.durableIndex <= n.log.lastIndex,
      () => `durable index ${n.durableIndex} beyond last index ${n.log.lastIndex}`,
    );
    // No entry is from a term this replica has not reached.
    invariant(
      n.log.lastTerm <= n.term,
      () => `last entry of term ${n.log.lastTerm} above current term ${n.term}`,
    );

    // One leader per term as this replica sees it: a leader or candidate voted for itself, and
    // a leader knows itself as the leader.
    if (n.role === "leader" || n.role === "candidate") {
      invariant(n.vote === n.id, () => `${n.role} of term ${n.term} voted for ${n.vote}`);
    }
    if (n.role === "leader") {
      invariant(n.leader === n.id, () => `leader of term ${n.term} names ${n.leader} as leader`);
      invariant(
        n.log.term(n.termStartIndex) === undefined || n.log.term(n.termStartIndex) === n.term,
        () => `leader's first entry of term ${n.term} at ${n.termStartIndex} has another term`,
      );
      for (const [id, pr] of n.progress) {
        invariant(
          pr.match <= n.log.lastIndex,
          () => `replica ${id} matches ${pr.match} beyond the leader's last ${n.log.lastIndex}`,
        );
      }
    } else {
      invariant(n.progress.size === 0, () => `${n.role} keeps replication progress`);
    }

    // Every queue is bounded.
    const max = n.settings.maxPendingRequests;
    invariant(n.proposals.size <= max, () => `${n.proposals.size} pending commands (max ${max})`);
    invariant(n.readOnly.pending <= max, () => `${n.readOnly.pending} pending reads (max ${max})`);
    invariant(
      n.adminWaiters.length <= limits.raftMaxAdminWaiters,
      () => `${n.adminWaiters.length} admin waiters`,
    );
    invariant(
      (n.transfer?.waiters.length ?? 0) <= limits.raftMaxTransferWaiters,
      () => `${n.transfer?.waiters.length} transfer waiters`,
    );
    invariant(
      (n.incoming?.chunks.length ?? 0) <= limits.raftMaxSnapshotPieces,
      () => `${n.incoming?.chunks.length} snapshot pieces held`,
    );
  }
}
