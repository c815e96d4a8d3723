import type { LogIndex } from "../../core/ids.js";

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
