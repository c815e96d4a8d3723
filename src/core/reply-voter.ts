import type { ReplicaId } from "./ids.js";
import type { ReplyQuorums } from "./protocol.js";

/** Crash-fault protocols: the replica that answers is correct, so one reply suffices. */
export const trustOneReply: ReplyQuorums = { ordered: () => 1, unordered: () => 1 };

/**
 * Collects replies to one request and accepts a result once `threshold` distinct replicas sent
 * matching ones (PBFT: f+1 for ordered requests, 2f+1 for read-only and tentative replies; a
 * leader-based protocol: 1). Replies match when their keys (a digest of the result, computed
 * by the caller) are equal. A replica's later reply replaces its earlier one (it may change
 * its tentative answer); a replica outside the configuration is ignored. Nothing is ever
 * accepted below the threshold, however many replicas answered.
 */
export class ReplyVoter<R> {
  private readonly votes = new Map<ReplicaId, { readonly key: string; readonly reply: R }>();
  private accepted: { readonly key: string; readonly reply: R } | undefined;

  constructor(
    readonly threshold: number,
    private readonly members: ReadonlySet<ReplicaId>,
  ) {
    if (!Number.isInteger(threshold) || threshold < 1)
      throw new RangeError(`reply voter: threshold must be a positive integer, got ${threshold}`);
    if (threshold > members.size)
      throw new RangeError(
        `reply voter: threshold ${threshold} exceeds the ${members.size} replicas that can vote`,
      );
  }

  /**
   * Records `from`'s reply. Returns the accepted reply once (and on every later call) when
   * `threshold` distinct replicas agree on a key; undefined until then.
   */
  add(from: ReplicaId, key: string, reply: R): R | undefined {
    if (this.accepted) return this.accepted.reply;
    if (!this.members.has(from)) return undefined;
    this.votes.set(from, { key, reply });
    let count = 0;
    for (const vote of this.votes.values()) if (vote.key === key) count++;
    if (count >= this.threshold) this.accepted = { key, reply };
    return this.accepted?.reply;
  }

  get decided(): boolean {
    return this.accepted !== undefined;
  }

  /** Distinct replicas heard from. */
  get voters(): number {
    return this.votes.size;
  }

  /**
   * True when no key can reach the threshold any more, even if every silent replica agreed
   * with the most popular one (PBFT's client then falls back from read-only to ordered).
   */
  get hopeless(): boolean {
    if (this.accepted) return false;
    const counts = new Map<string, number>();
    let best = 0;
    for (const { key } of this.votes.values()) {
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      best = Math.max(best, n);
    }
    return best + (this.members.size - this.votes.size) < this.threshold;
  }
}
