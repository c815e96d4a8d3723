import type { ReplicaId, Term } from "../../core/ids.js";
import { isVoter } from "./membership.js";
import type { VoteReply, VoteRequest } from "./messages.js";
import type { RaftNode } from "./node.js";
import { quorum } from "./quorum.js";

/**
 * Elections (dissertation 3.4), with pre-vote (9.6) and leader stickiness (4.2.3), as the
 * decisions and messages that do not change roles: who may campaign, what a vote request
 * says, whether to grant one, and how the votes stand. raft.ts changes roles and terms on
 * these answers.
 */

/**
 * May this replica campaign when its election timer fires? Voters may. So may a replica whose
 * latest (uncommitted, as far as it knows) membership removed it while the committed one has it
 * as a voter: it may hold the only copy of that change (say, a leader that removed itself and
 * crashed), and without it the others cannot win. Like a removed leader (dissertation 4.2.2) it
 * only counts the new membership's votes, and steps down once the change commits. Learners and
 * replicas outside the membership stay passive.
 */
export function canCampaign(n: RaftNode): boolean {
  if (n.role === "leader") return false;
  if (n.isVoter) return true;
  return n.configs.latestIndex > n.commitIndex && isVoter(n.configs.at(n.commitIndex), n.id);
}

export function voteRequest(n: RaftNode, term: Term, pre: boolean, transfer: boolean): VoteRequest {
  return {
    type: "vote",
    term,
    lastIndex: n.log.lastIndex,
    lastTerm: n.log.lastTerm,
    pre,
    transfer,
  };
}

/** Sends `msg` to every voter but this replica (after persist `after`). */
export function requestVotes(n: RaftNode, msg: VoteRequest, after = 0): void {
  for (const voter of n.membership.voters) if (voter !== n.id) n.send(voter, msg, after);
}

/**
 * RequestVote is retried like any RPC (Raft paper 5.1) to every voter that has not granted:
 * a lost request, or a voter that was down or has since restarted, can still answer in this term.
 */
export function resendVoteRequests(n: RaftNode): void {
  const msg = voteRequest(n, n.term, false, false);
  for (const voter of n.membership.voters) {
    if (voter !== n.id && n.votes.get(voter) !== true) n.send(voter, msg, n.selfVotePersistId);
  }
}

/** How the current membership's voters have answered this (pre)candidate. */
export function countVotes(n: RaftNode): "won" | "lost" | "pending" {
  const m = n.membership;
  let granted = 0;
  let rejected = 0;
  for (const voter of m.voters) {
    if (voter === n.id) {
      if (n.role === "precandidate" || n.persistedUpTo >= n.selfVotePersistId) granted++;
      continue;
    }
    const vote = n.votes.get(voter);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  if (granted >= quorum(m)) return "won";
  if (rejected >= quorum(m)) return "lost";
  return "pending";
}

function upToDate(n: RaftNode, msg: VoteRequest): boolean {
  // PLANTED BUG vote-without-log-check: every candidate's log counts as up to date (for votes and
  // pre-votes alike), so a candidate missing committed entries can win.
  if (n.bug === "vote-without-log-check") return true;
  return (
    msg.lastTerm > n.log.lastTerm ||
    (msg.lastTerm === n.log.lastTerm && msg.lastIndex >= n.log.lastIndex)
  );
}

/**
 * Leader stickiness: while a leader is known to be alive, requests to replace it are ignored
 * (without adopting their term), unless they come from a leadership transfer.
 */
export function ignoresVoteRequest(n: RaftNode, msg: VoteRequest): boolean {
  return msg.term > n.term && !msg.transfer && n.inLease();
}

/** Answers a pre-vote; it changes neither term nor vote. */
export function answerPreVote(n: RaftNode, from: ReplicaId, msg: VoteRequest): void {
  // A grant carries the proposed term; a rejection carries this replica's own term, so that a
  // precandidate whose term is behind adopts it (otherwise it could neither win nor let a
  // replica with a shorter log win).
  const grant = msg.term > n.term && upToDate(n, msg);
  const reply: VoteReply = {
    type: "voteReply",
    term: grant ? msg.term : n.term,
    granted: grant,
    pre: true,
  };
  n.send(from, reply);
}

/** Answers a real vote request once this replica's term is at least the candidate's. */
export function castVote(n: RaftNode, from: ReplicaId, msg: VoteRequest): void {
  if (msg.term < n.term) {
    n.send(from, { type: "voteReply", term: n.term, granted: false, pre: false });
    return;
  }
  let free = n.vote === null || n.vote === from;
  // PLANTED BUG double-vote: vote again in a term after voting for someone else.
  if (n.bug === "double-vote") free = true;
  if (!free || !upToDate(n, msg)) {
    n.send(from, { type: "voteReply", term: n.term, granted: false, pre: false }, n.durableAfter());
    return;
  }
  n.vote = from;
  n.resetElectionTimer();
  const granted: VoteReply = { type: "voteReply", term: n.term, granted: true, pre: false };
  if (n.bug === "vote-not-persisted") {
    // PLANTED BUG vote-not-persisted: the vote leaves at once and never reaches the hard state.
    n.send(from, granted, 0);
    return;
  }
  // The vote is durable before the reply leaves.
  n.persistHardState();
  n.send(from, granted, n.durableAfter());
}
