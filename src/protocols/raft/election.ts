import type { ReplicaId, Term } from "../../core/ids.js";
import { isVoter, quorum } from "./membership.js";
import type { VoteReply, VoteRequest } from "./messages.js";
import type { RaftNode } from "./node.js";
import { failReads } from "./read-index.js";
import { syncProgress } from "./reconfig.js";
import { appendAsLeader, broadcastAppend } from "./replication.js";
import { dropBatch } from "./sessions.js";
import { finishTransfer } from "./transfer.js";
import { invariant } from "./types.js";

/**
 * Elections (dissertation 3.4), with pre-vote (9.6) and leader stickiness (4.2.3). Terms move
 * forward only through becomeFollower (on seeing a higher term) and becomeCandidate.
 */

/** Steps down to follower of `term` (≥ the current term), optionally knowing its leader. */
export function becomeFollower(n: RaftNode, term: Term, leader: ReplicaId | undefined): void {
  invariant(term >= n.term, () => `term would go back from ${n.term} to ${term}`);
  const wasLeader = n.role === "leader";
  if (term > n.term) {
    n.term = term;
    n.vote = null;
    n.persistHardState();
  }
  n.role = "follower";
  n.leader = undefined;
  if (leader !== undefined) n.setLeader(leader);
  n.votes.clear();
  n.resetElectionTimer();
  if (wasLeader) leaderStepDown(n);
}

/** Forgets leader-only state, answering what can no longer be served. */
function leaderStepDown(n: RaftNode): void {
  failReads(n);
  dropBatch(n);
  finishTransfer(n);
  n.progress.clear();
  n.roundSentAt.clear();
}

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

export function tickElection(n: RaftNode): void {
  n.electionElapsed++;
  if (canCampaign(n) && n.electionElapsed >= n.randomizedElectionTimeout) {
    campaign(n, false);
    return;
  }
  // RequestVote is retried like any RPC (Raft paper 5.1) to every voter that has not granted:
  // a lost request, or a voter that was down or has since restarted, can still answer in this term.
  if (n.role === "candidate" && n.electionElapsed % n.settings.retransmitTicks === 0) {
    const msg = voteRequest(n, n.term, false, false);
    for (const voter of n.membership.voters) {
      if (voter !== n.id && n.votes.get(voter) !== true) n.send(voter, msg, n.selfVotePersistId);
    }
  }
}

/** Starts an election: a pre-vote first unless disabled or this is a leadership transfer. */
export function campaign(n: RaftNode, transfer: boolean): void {
  if (n.settings.preVote && !transfer) becomePreCandidate(n);
  else becomeCandidate(n, transfer);
}

function voteRequest(n: RaftNode, term: Term, pre: boolean, transfer: boolean): VoteRequest {
  return {
    type: "vote",
    term,
    lastIndex: n.log.lastIndex,
    lastTerm: n.log.lastTerm,
    pre,
    transfer,
  };
}

function becomePreCandidate(n: RaftNode): void {
  n.role = "precandidate";
  n.leader = undefined;
  n.votes = new Map([[n.id, true]]);
  n.resetElectionTimer();
  // A pre-vote changes nothing durable, so it needs no persist before it leaves.
  const msg = voteRequest(n, n.term + 1, true, false);
  for (const voter of n.membership.voters) if (voter !== n.id) n.send(voter, msg);
  tally(n);
}

function becomeCandidate(n: RaftNode, transfer: boolean): void {
  n.term += 1;
  n.vote = n.id;
  n.role = "candidate";
  n.leader = undefined;
  n.votes = new Map([[n.id, true]]);
  n.resetElectionTimer();
  // Term and self-vote are durable before any RequestVote leaves, and before the candidate counts
  // its own vote (otherwise a crash could let it vote again in this term).
  n.persistHardState();
  n.selfVotePersistId = n.flush();
  const msg = voteRequest(n, n.term, false, transfer);
  for (const voter of n.membership.voters)
    if (voter !== n.id) n.send(voter, msg, n.selfVotePersistId);
  tally(n);
}

/** Counts the votes of the current membership's voters; wins, loses or keeps waiting. */
export function tally(n: RaftNode): void {
  if (n.role !== "precandidate" && n.role !== "candidate") return;
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
  if (granted >= quorum(m)) {
    if (n.role === "precandidate") becomeCandidate(n, false);
    else becomeLeader(n);
  } else if (rejected >= quorum(m)) {
    becomeFollower(n, n.term, undefined);
  }
}

function becomeLeader(n: RaftNode): void {
  invariant(n.role === "candidate", () => `becoming leader from ${n.role}`);
  n.role = "leader";
  n.ledTerm = n.term;
  n.setLeader(n.id);
  n.votes.clear();
  n.progress.clear();
  n.heartbeatElapsed = 0;
  n.checkQuorumElapsed = 0;
  n.readQueue = [];
  n.readRounds = [];
  n.transfer = undefined;
  n.batch = [];
  syncProgress(n);
  for (const pr of n.progress.values()) pr.becomeProbe(n.log.lastIndex + 1);
  // The noop lets the leader commit entries of earlier terms through one of its own (5.4.2).
  n.termStartIndex = appendAsLeader(n, { type: "noop" }).index;
  broadcastAppend(n);
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

export function handleVote(n: RaftNode, from: ReplicaId, msg: VoteRequest): void {
  // Leader stickiness: while a leader is known to be alive, requests to replace it are ignored
  // (without adopting their term), unless they come from a leadership transfer.
  if (msg.term > n.term && !msg.transfer && n.inLease()) return;

  if (msg.pre) {
    // A pre-vote changes neither term nor vote. A grant carries the proposed term; a rejection
    // carries this replica's own term, so that a precandidate whose term is behind adopts it
    // (otherwise it could neither win nor let a replica with a shorter log win).
    const grant = msg.term > n.term && upToDate(n, msg);
    const reply: VoteReply = {
      type: "voteReply",
      term: grant ? msg.term : n.term,
      granted: grant,
      pre: true,
    };
    n.send(from, reply);
    return;
  }

  if (msg.term < n.term) {
    n.send(from, { type: "voteReply", term: n.term, granted: false, pre: false });
    return;
  }
  if (msg.term > n.term) becomeFollower(n, msg.term, undefined);

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

export function handleVoteReply(n: RaftNode, from: ReplicaId, msg: VoteReply): void {
  if (msg.pre) {
    if (msg.granted) {
      if (n.role === "precandidate" && msg.term === n.term + 1) {
        n.votes.set(from, true);
        tally(n);
      }
    } else if (msg.term > n.term) {
      becomeFollower(n, msg.term, undefined);
    } else if (n.role === "precandidate" && msg.term === n.term) {
      n.votes.set(from, false);
      tally(n);
    }
    return;
  }
  if (msg.term > n.term) becomeFollower(n, msg.term, undefined);
  if (n.role === "candidate" && msg.term === n.term) {
    n.votes.set(from, msg.granted);
    tally(n);
  }
}

/** Leadership transfer: the target campaigns at once, skipping pre-vote and stickiness. */
export function handleTimeoutNow(n: RaftNode, msg: { term: Term }): void {
  if (msg.term !== n.term || !canCampaign(n)) return;
  campaign(n, true);
}
