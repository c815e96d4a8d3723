import type { AdminRequest, ReplyResult } from "../../core/client-messages.js";
import type { ReplicaId } from "../../core/ids.js";
import { limits } from "../../core/limits.js";
import { changedMembership, promotion, satisfied } from "./confchange.js";
import { isVoter, members } from "./membership.js";
import type { RaftNode } from "./node.js";
import { syncTargets, tickRemoved } from "./progress.js";
import { abortTransfer, handleTransfer } from "./transfer.js";
import type { Membership } from "./types.js";

/**
 * Membership changes on a leader (dissertation 4.1-4.3). A config entry takes effect when
 * appended. The leader allows one uncommitted change at a time and only after committing an
 * entry of its own term. `add` brings a replica in as a learner; the leader promotes it to voter
 * with a second change once it has caught up. A removed leader steps down once the change
 * commits. Admin requests are answered when the committed membership satisfies them. This
 * module answers requests and decides; raft.ts appends the config entries and steps down.
 */

/**
 * Takes an admin request. Answers it when it can (errors, already satisfied, transfers) and
 * returns undefined; returns "authorize" when the request would change something and has not
 * been authorized yet (the caller logs its authorization, core/admin-authorization.ts, and
 * calls this again with `authorized` once the service approved it at the entry's index);
 * otherwise returns the membership to append (undefined `next` when the change is already
 * under way) and the caller appends it and then calls addAdminWaiter.
 */
export function handleAdmin(
  n: RaftNode,
  msg: AdminRequest,
  authorized: boolean,
): { readonly next: Membership | undefined } | "authorize" | undefined {
  const { client, aid, admin } = msg;
  const answer = (result: ReplyResult): void =>
    n.reply(client, { type: "adminReply", client, aid, result });
  if (n.role !== "leader") {
    answer(n.notLeader());
    return undefined;
  }
  if (admin.op === "transfer") {
    if (!authorized && admin.to !== n.id && isVoter(n.membership, admin.to)) return "authorize";
    handleTransfer(n, client, aid, admin.to);
    return undefined;
  }
  if (admin.op !== "add" && admin.op !== "remove") {
    // Access changes are logged entries (access.ts), never membership changes.
    answer({ ok: false, error: "invalid", message: `${admin.op} is not a membership change` });
    return undefined;
  }
  const replica = admin.replica;
  if (replica >= n.replicaCount) {
    answer({
      ok: false,
      error: "invalid",
      message: `replica ${replica} is not in the address book`,
    });
    return undefined;
  }
  if (satisfied(admin, n.configs.at(n.commitIndex))) {
    answer({ ok: true, value: null });
    return undefined;
  }
  if (n.adminWaiters.full) {
    answer({ ok: false, error: "busy", message: "too many membership requests waiting" });
    return undefined;
  }
  const latest = n.membership;
  // Already under way (uncommitted, or a learner awaiting promotion): wait for it.
  const underWay =
    satisfied(admin, latest) || (admin.op === "add" && latest.learners.includes(replica));
  if (underWay) return { next: undefined };
  const problem = changeBlocked(n);
  if (problem) {
    answer({ ok: false, error: "busy", message: problem });
    return undefined;
  }
  const next = changedMembership(latest, admin);
  if (typeof next === "string") {
    answer({ ok: false, error: "invalid", message: next });
    return undefined;
  }
  if (!authorized) return "authorize";
  return { next };
}

export function addAdminWaiter(n: RaftNode, msg: AdminRequest): void {
  n.adminWaiters.add(msg.client, msg.aid, msg.admin);
}

/** Why the leader cannot start a membership change now, if it cannot. */
export function changeBlocked(n: RaftNode): string | undefined {
  if (!n.committedInTerm) return "the new leader has not committed an entry of its term yet";
  if (n.configs.latestIndex > n.commitIndex) {
    return `membership change at ${n.configs.latestIndex} is not committed yet`;
  }
  if (n.transfer) return "leadership transfer in progress";
  return undefined;
}

/**
 * Keeps one Progress per replica the leader replicates to: members of the latest membership
 * and of the committed one (progress.ts keeps a removed replica for a grace period).
 */
export function syncProgress(n: RaftNode): void {
  if (n.role !== "leader") return;
  const targets = new Set([...members(n.membership), ...members(n.configs.at(n.commitIndex))]);
  targets.delete(n.id);
  syncTargets(n.progress, targets, n.log.lastIndex + 1);
  if (n.transfer && !isVoter(n.membership, n.transfer.to)) {
    abortTransfer(n, {
      ok: false,
      error: "invalid",
      message: "transfer target is no longer a voter",
    });
  }
}

/** Stops replicating to removed replicas some election timeouts after their removal. */
export function tickRemovedProgress(n: RaftNode): void {
  tickRemoved(n.progress, limits.raftRemovedGraceElectionTimeouts * n.settings.electionTicks);
}

/** The membership promoting one caught-up learner to voter, when no other change is pending. */
export function learnerPromotion(n: RaftNode): Membership | undefined {
  if (n.role !== "leader" || changeBlocked(n)) return undefined;
  return promotion(
    n.membership,
    (id) => n.progress.get(id)?.match,
    n.log.lastIndex,
    n.settings.learnerCatchUpEntries,
  );
}

/**
 * Whether this leader's removal has committed, so it must step down (dissertation 4.2.2); to
 * shorten the gap it first asks the most up-to-date voter to campaign at once.
 */
export function handOffIfRemoved(n: RaftNode): boolean {
  if (n.role !== "leader" || n.isVoter || n.configs.latestIndex > n.commitIndex) return false;
  let best: ReplicaId | undefined;
  for (const voter of n.membership.voters) {
    const match = n.progress.get(voter)?.match ?? 0;
    if (best === undefined || match > (n.progress.get(best)?.match ?? 0)) best = voter;
  }
  if (best !== undefined && n.progress.get(best)?.match === n.log.lastIndex) {
    n.send(best, { type: "timeoutNow", term: n.term });
  }
  return true;
}

/** Answers admin requests that the committed membership now satisfies. */
export function answerAdminWaiters(n: RaftNode): void {
  if (n.adminWaiters.length === 0) return;
  for (const w of n.adminWaiters.takeSatisfied(n.configs.at(n.commitIndex))) {
    n.reply(w.client, {
      type: "adminReply",
      client: w.client,
      aid: w.aid,
      result: { ok: true, value: null },
    });
  }
}

/** Waiters are dropped after a while (their client retries; membership ops are idempotent). */
export function tickAdminWaiters(n: RaftNode): void {
  n.adminWaiters.tick(n.settings.electionTicks);
}
