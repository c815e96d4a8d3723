import { toHex } from "../../core/crypto.js";
import type { ClientId, ReplicaId } from "../../core/ids.js";
import type { Value } from "../../core/value.js";
import type { Digest, Reply } from "./messages.js";
import { isReplica, type Quorums } from "./quorum.js";

/**
 * The client's vote over replies to one request (OSDI'99 §4.1, §5.1). A result is returned only
 * when enough distinct replicas vouch for it that at least one correct replica is among them and,
 * where the reply is not final, that it cannot be undone:
 * - ordered request: f+1 matching committed replies, or 2f+1 matching replies of which some may be
 *   tentative (§5.1.2), the tentative ones all from one view. Then f+1 correct replicas among
 *   them either committed it or prepared it in that view, so it is committed (OSDI'99 §4.2's
 *   predicate) and no view change can undo it. Tentative replies from different views prove
 *   nothing of the kind: a batch prepared in view v and rolled back in v+1 may give the same
 *   result as the request executed tentatively elsewhere in v+1;
 * - read-only request: 2f+1 matching replies (§5.1.3); once that is impossible the client retries
 *   the request as an ordered one.
 * Matching means the same result digest for the same request (client, timestamp). With digest
 * replies (§5.1.1) most replicas send only the digest; the vote needs the full result from one of
 * them, checked against the winning digest. Replies must be authenticated by the caller
 * (authenticator.verifyReply, which also checks a full result against its digest).
 */

export type ReplyRefusal = "not-a-replica" | "wrong-request" | "duplicate";

export type VoteOutcome =
  | { readonly status: "pending" }
  | {
      readonly status: "decided";
      readonly result: Value;
      readonly resultDigest: Digest;
      /** Ordered requests: 2f+1 replies with tentative ones among them decided, not f+1 committed. */
      readonly viaTentative: boolean;
    }
  /** Enough replicas agree on a digest, but none of them sent the full result: ask them for it. */
  | { readonly status: "need-full-result"; readonly resultDigest: Digest }
  /** Read-only: 2f+1 matching replies can no longer happen; retry as an ordered request. */
  | { readonly status: "conflict" };

interface Vote {
  readonly key: string;
  readonly digest: Digest;
  readonly tentative: boolean;
  readonly view: number;
}

export class ReplyVoter {
  /** One vote per replica: a later reply (e.g. committed after tentative) replaces the earlier. */
  private readonly votes = new Map<ReplicaId, Vote>();
  /** Full results by digest; at most one per distinct digest voted, so at most n. */
  private readonly results = new Map<string, Value>();

  constructor(
    private readonly q: Quorums,
    readonly request: {
      readonly client: ClientId;
      readonly timestamp: number;
      readonly readOnly: boolean;
      /**
       * Ordered requests need 2f+1 matching committed replies instead of f+1: required when the
       * cluster answers read-only queries without ordering (TOCS §5.1.3), so that a completed
       * write is in the state of at least f+1 correct replicas.
       */
      readonly strong?: boolean;
    },
  ) {}

  add(reply: Reply): { accepted: true } | { accepted: false; reason: ReplyRefusal } {
    if (!isReplica(reply.replica, this.q.members))
      return { accepted: false, reason: "not-a-replica" };
    if (reply.client !== this.request.client || reply.timestamp !== this.request.timestamp) {
      return { accepted: false, reason: "wrong-request" };
    }
    const key = toHex(reply.resultDigest);
    const earlier = this.votes.get(reply.replica);
    const bringsResult = reply.full && !this.results.has(key);
    // The same vote again, unless it moves to another view: tentative votes count per view.
    if (
      earlier &&
      earlier.key === key &&
      earlier.tentative === reply.tentative &&
      (earlier.view === reply.view || !reply.tentative) &&
      !bringsResult
    ) {
      return { accepted: false, reason: "duplicate" };
    }
    this.votes.set(reply.replica, {
      key,
      digest: reply.resultDigest,
      tentative: reply.tentative,
      view: reply.view,
    });
    if (reply.full) this.results.set(key, reply.result);
    this.pruneResults();
    return { accepted: true };
  }

  outcome(): VoteOutcome {
    const tally = new Map<
      string,
      { digest: Digest; all: number; committed: number; tentativeIn: Map<number, number> }
    >();
    for (const v of this.votes.values()) {
      const t = tally.get(v.key) ?? {
        digest: v.digest,
        all: 0,
        committed: 0,
        tentativeIn: new Map<number, number>(),
      };
      t.all++;
      if (!v.tentative) t.committed++;
      else t.tentativeIn.set(v.view, (t.tentativeIn.get(v.view) ?? 0) + 1);
      tally.set(v.key, t);
    }
    const silent = this.q.n - this.votes.size;
    let possible = false;
    for (const [key, t] of tally) {
      const needed = this.request.strong ? this.q.quorum : this.q.weak;
      const byCommitted = !this.request.readOnly && t.committed >= needed;
      // Read-only replies are never tentative; ordered: committed ones and one view's tentative.
      const vouching = this.request.readOnly
        ? t.all
        : t.committed + Math.max(0, ...t.tentativeIn.values());
      if (byCommitted || vouching >= this.q.quorum) {
        if (!this.results.has(key)) return { status: "need-full-result", resultDigest: t.digest };
        return {
          status: "decided",
          result: this.results.get(key)!,
          resultDigest: t.digest,
          viaTentative: !this.request.readOnly && !byCommitted,
        };
      }
      if (t.all + silent >= this.q.quorum) possible = true;
    }
    if (this.request.readOnly && !possible && silent < this.q.quorum) return { status: "conflict" };
    return { status: "pending" };
  }

  /** Replicas whose latest reply carries a result other than `digest` (out-voted dissenters). */
  dissenters(digest: Digest): ReplicaId[] {
    const key = toHex(digest);
    return [...this.votes].filter(([, v]) => v.key !== key).map(([replica]) => replica);
  }

  /**
   * The view the replies vouch for: the highest view that f+1 replicas reported (so a correct one
   * did), or undefined before f+1 replies. A lying replica cannot move the client to a view no
   * correct replica is in.
   */
  learnedView(): number | undefined {
    const views = [...this.votes.values()].map((v) => v.view).sort((a, b) => b - a);
    return views[this.q.weak - 1];
  }

  private pruneResults(): void {
    if (this.results.size <= this.q.n) return;
    const voted = new Set([...this.votes.values()].map((v) => v.key));
    for (const key of this.results.keys()) if (!voted.has(key)) this.results.delete(key);
  }
}
