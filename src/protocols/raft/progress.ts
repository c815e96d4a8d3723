import type { LogIndex, ReplicaId } from "../../core/ids.js";

/**
 * How a leader replicates to one follower (the shape of etcd's Progress):
 * - probe: it does not know where the follower's log matches; one AppendEntries at a time,
 *   backing off with the follower's conflict hints;
 * - replicate: the follower is known to match up to `match`; entries stream optimistically,
 *   with at most `maxInflight` unacknowledged AppendEntries;
 * - snapshot: the entries the follower needs are compacted away; InstallSnapshot chunks go one
 *   at a time.
 */
export type ProgressState = "probe" | "replicate" | "snapshot";

export class Progress {
  state: ProgressState = "probe";
  /** Highest index known to be durably replicated on the follower. */
  match: LogIndex = 0;
  /** Next index to send. */
  next: LogIndex;
  /** Probe state: a probe is outstanding. */
  probeSent = false;
  /** Replicate state: last index of each AppendEntries in flight, ascending. */
  inflight: LogIndex[] = [];
  /** Snapshot state: which snapshot is being sent and how many bytes the follower holds. */
  snapshotIndex: LogIndex = 0;
  snapshotOffset = 0;
  /** Ticks without progress while something is outstanding; triggers a resend. */
  stalled = 0;
  /** Heard from the follower since the last check-quorum round. */
  recentActive = false;
  /** Highest heartbeat round the follower echoed in this term. */
  ackedRound = 0;
  /** Ticks since the replica left the membership (-1 while it is a member). */
  removedFor = -1;

  constructor(next: LogIndex) {
    this.next = next;
  }

  becomeProbe(next: LogIndex): void {
    this.state = "probe";
    this.next = Math.max(next, this.match + 1);
    this.probeSent = false;
    this.inflight = [];
    this.stalled = 0;
  }

  becomeReplicate(): void {
    this.state = "replicate";
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflight = [];
    this.stalled = 0;
  }

  becomeSnapshot(index: LogIndex): void {
    this.state = "snapshot";
    this.snapshotIndex = index;
    this.snapshotOffset = 0;
    this.probeSent = false;
    this.inflight = [];
    this.stalled = 0;
  }

  /** Records that the follower matches up to `index`; returns whether match moved. */
  acknowledge(index: LogIndex): boolean {
    if (index <= this.match) return false;
    this.match = index;
    if (this.next <= index) this.next = index + 1;
    while (this.inflight.length > 0 && this.inflight[0]! <= index) this.inflight.shift();
    this.stalled = 0;
    return true;
  }

  /** Something is outstanding that a lost message could leave unanswered. */
  get waiting(): boolean {
    return (
      (this.state === "probe" && this.probeSent) ||
      (this.state === "replicate" && this.inflight.length > 0) ||
      this.state === "snapshot"
    );
  }

  describe(): { state: ProgressState; match: LogIndex; next: LogIndex; inflight: number } {
    return {
      state: this.state,
      match: this.match,
      next: this.next,
      inflight: this.inflight.length,
    };
  }
}

/**
 * The leader's progress tracker: one Progress per replica it replicates to. `targets` (the
 * members of the latest and of the committed membership, without the leader) each get one; a
 * replica that left keeps its Progress for a grace period (see tickRemoved) so that it learns
 * its removal committed and goes passive.
 */
export function syncTargets(
  tracker: Map<ReplicaId, Progress>,
  targets: ReadonlySet<ReplicaId>,
  nextIndex: LogIndex,
): void {
  for (const id of targets) {
    const pr = tracker.get(id);
    if (!pr) tracker.set(id, new Progress(nextIndex));
    else pr.removedFor = -1;
  }
  for (const [id, pr] of tracker) if (!targets.has(id) && pr.removedFor < 0) pr.removedFor = 0;
}

/** Stops tracking removed replicas once their grace period of `graceTicks` has passed. */
export function tickRemoved(tracker: Map<ReplicaId, Progress>, graceTicks: number): void {
  for (const [id, pr] of tracker) {
    if (pr.removedFor >= 0 && ++pr.removedFor > graceTicks) tracker.delete(id);
  }
}
