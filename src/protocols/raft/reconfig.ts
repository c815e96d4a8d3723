import type { AdminOp, AdminRequest, ReplyResult } from "../../core/client-messages.js";
import type { ReplicaId } from "../../core/ids.js";
import { becomeFollower } from "./election.js";
import { isMember, isVoter, makeMembership, members } from "./membership.js";
import type { RaftNode } from "./node.js";
import { Progress } from "./progress.js";
import { confirmReads } from "./read-index.js";
import { appendAsLeader, broadcastAppend, maybeCommit } from "./replication.js";
import { abortTransfer, handleTransfer } from "./transfer.js";
import type { Membership } from "./types.js";

/**
 * Membership changes one server at a time (dissertation 4.1-4.3). A config entry takes effect
 * when appended. The leader allows one uncommitted change at a time and only after committing
 * an entry of its own term. `add` brings a replica in as a learner; the leader promotes it to
 * voter with a second change once it has caught up. A removed leader steps down once the change
 * commits. Admin requests are answered when the committed membership satisfies them.
 */

const maxAdminWaiters = 64;

function satisfied(op: AdminOp, m: Membership): boolean {
  if (op.op === "add") return isVoter(m, op.replica);
  if (op.op === "remove") return !isMember(m, op.replica);
  return false;
}

export function handleAdmin(n: RaftNode, msg: AdminRequest): void {
  const { client, aid, admin } = msg;
  const answer = (result: ReplyResult): void =>
    n.reply(client, { type: "adminReply", client, aid, result });
  if (n.role !== "leader") {
    answer(n.notLeader());
    return;
  }
  if (admin.op === "transfer") {
    handleTransfer(n, client, aid, admin.to);
    return;
  }
  const replica = admin.replica;
  if (replica >= n.replicaCount) {
    answer({
      ok: false,
      error: "invalid",
      message: `replica ${replica} is not in the address book`,
    });
    return;
  }
  if (satisfied(admin, n.configs.at(n.commitIndex))) {
    answer({ ok: true, value: null });
    return;
  }
  if (n.adminWaiters.length >= maxAdminWaiters) {
    answer({ ok: false, error: "busy", message: "too many membership requests waiting" });
    return;
  }
  const latest = n.membership;
  // Already under way (uncommitted, or a learner awaiting promotion): wait for it.
  const underWay =
    satisfied(admin, latest) || (admin.op === "add" && latest.learners.includes(replica));
  if (!underWay) {
    const problem = changeBlocked(n);
    if (problem) {
      answer({ ok: false, error: "busy", message: problem });
      return;
    }
    let next: Membership;
    if (admin.op === "add") {
      next = makeMembership(latest.voters, [...latest.learners, replica]);
    } else {
      next = makeMembership(
        latest.voters.filter((id) => id !== replica),
        latest.learners.filter((id) => id !== replica),
      );
      if (next.voters.length === 0) {
        answer({ ok: false, error: "invalid", message: "cannot remove the last voter" });
        return;
      }
    }
    appendConfig(n, next);
  }
  n.adminWaiters.push({ client, aid, op: admin, age: 0 });
}

/** Why the leader cannot start a membership change now, if it cannot. */
function changeBlocked(n: RaftNode): string | undefined {
  if (!n.committedInTerm) return "the new leader has not committed an entry of its term yet";
  if (n.configs.latestIndex > n.commitIndex) {
    return `membership change at ${n.configs.latestIndex} is not committed yet`;
  }
  if (n.transfer) return "leadership transfer in progress";
  return undefined;
}

function appendConfig(n: RaftNode, next: Membership): void {
  appendAsLeader(n, { type: "config", config: next });
  broadcastAppend(n);
  // A smaller voter set may already have a quorum for older entries or for pending reads.
  maybeCommit(n);
  confirmReads(n);
}

/**
 * Keeps one Progress per replica the leader replicates to: members of the latest membership
 * and of the committed one. A removed replica is kept for a grace period (see
 * tickRemovedProgress) so that it learns its removal committed and goes passive.
 */
export function syncProgress(n: RaftNode): void {
  if (n.role !== "leader") return;
  const targets = new Set([...members(n.membership), ...members(n.configs.at(n.commitIndex))]);
  targets.delete(n.id);
  for (const id of targets) {
    const pr = n.progress.get(id);
    if (!pr) n.progress.set(id, new Progress(n.log.lastIndex + 1));
    else pr.removedFor = -1;
  }
  for (const [id, pr] of n.progress) if (!targets.has(id) && pr.removedFor < 0) pr.removedFor = 0;
  if (n.transfer && !isVoter(n.membership, n.transfer.to)) {
    abortTransfer(n, {
      ok: false,
      error: "invalid",
      message: "transfer target is no longer a voter",
    });
  }
}

/** Stops replicating to removed replicas two election timeouts after their removal. */
export function tickRemovedProgress(n: RaftNode): void {
  for (const [id, pr] of n.progress) {
    if (pr.removedFor >= 0 && ++pr.removedFor > 2 * n.settings.electionTicks) n.progress.delete(id);
  }
}

/** Promotes one caught-up learner to voter, when no other change is pending. */
export function maybePromoteLearner(n: RaftNode): void {
  if (n.role !== "leader" || changeBlocked(n)) return;
  const latest = n.membership;
  for (const learner of latest.learners) {
    const pr = n.progress.get(learner);
    if (!pr || pr.match + n.settings.learnerCatchUpEntries < n.log.lastIndex) continue;
    appendConfig(
      n,
      makeMembership(
        [...latest.voters, learner],
        latest.learners.filter((id) => id !== learner),
      ),
    );
    return;
  }
}

/**
 * A leader whose removal has committed steps down (dissertation 4.2.2); to shorten the gap it
 * first asks the most up-to-date voter to campaign at once.
 */
export function stepDownIfRemoved(n: RaftNode): boolean {
  if (n.role !== "leader" || n.isVoter || n.configs.latestIndex > n.commitIndex) return false;
  let best: ReplicaId | undefined;
  for (const voter of n.membership.voters) {
    const match = n.progress.get(voter)?.match ?? 0;
    if (best === undefined || match > (n.progress.get(best)?.match ?? 0)) best = voter;
  }
  if (best !== undefined && n.progress.get(best)?.match === n.log.lastIndex) {
    n.send(best, { type: "timeoutNow", term: n.term });
  }
  becomeFollower(n, n.term, undefined);
  return true;
}

/** Answers admin requests that the committed membership now satisfies. */
export function answerAdminWaiters(n: RaftNode): void {
  if (n.adminWaiters.length === 0) return;
  const committed = n.configs.at(n.commitIndex);
  n.adminWaiters = n.adminWaiters.filter((w) => {
    if (!satisfied(w.op, committed)) return true;
    n.reply(w.client, {
      type: "adminReply",
      client: w.client,
      aid: w.aid,
      result: { ok: true, value: null },
    });
    return false;
  });
}

/** Waiters are dropped after a while (their client retries; membership ops are idempotent). */
export function tickAdminWaiters(n: RaftNode): void {
  const limit = 20 * n.settings.electionTicks;
  n.adminWaiters = n.adminWaiters.filter((w) => ++w.age < limit);
}
