import {
  accessRefusal,
  type ClientAccess,
  forbiddenCommand,
  isAccessChange,
} from "../../core/access.js";
import { isMembershipOp } from "../../core/admin-authorization.js";
import type { AdminRequest, ClientRequestMessage } from "../../core/client-messages.js";
import type { ClientId, LogIndex, ReplicaId, Term } from "../../core/ids.js";
import type { CoreInput, CoreOutput } from "../../core/protocol.js";
import {
  accessChangePending,
  answerAppliedAccess,
  handleAccessChange,
  requestAuthorization,
  tickAccessWaiters,
} from "./access.js";
import {
  answerPreVote,
  canCampaign,
  castVote,
  countVotes,
  ignoresVoteRequest,
  requestVotes,
  resendVoteRequests,
  voteRequest,
} from "./election.js";
import type {
  AppendReply,
  AppendRequest,
  RaftMessage,
  RaftWire,
  SnapshotChunk,
  SnapshotReply,
  VoteReply,
  VoteRequest,
} from "./messages.js";
import type { RaftNode } from "./node.js";
import { hasQuorum, quorumValue } from "./quorum.js";
import { confirmReads, failReads, handleQuery, startReadRound } from "./read-index.js";
import {
  addAdminWaiter,
  answerAdminWaiters,
  handleAdmin,
  handOffIfRemoved,
  learnerPromotion,
  syncProgress,
  tickAdminWaiters,
  tickRemovedProgress,
} from "./reconfig.js";
import {
  ackAppend,
  appendAsLeader,
  appendFromLeader,
  broadcastAppend,
  nextFromHint,
  replicateTo,
  startHeartbeatRound,
} from "./replication.js";
import { answerApplied, dropBatch, flushBatch, handleCommand } from "./sessions.js";
import {
  installSnapshot,
  maybeTakeSnapshot,
  onSnapshotTaken,
  receiveSnapshotChunk,
  sendSnapshotReply,
} from "./snapshot.js";
import { finishTransfer, maybeSendTimeoutNow, tickTransfer } from "./transfer.js";
import { invariant, type Membership } from "./types.js";

/**
 * The orchestrator (etcd's raft.go): it steps every input, owns every role change (become*),
 * the reset that goes with it, and everything that follows the commit index moving forward.
 * The other modules decide, send and append; none of them calls back here, so the imports of
 * src/protocols/raft form no cycle (biome's noImportCycles checks it).
 */

// ================================================================== step

/** One input; the outputs it causes are collected in `n` (RaftNode.begin/end). */
export function step(n: RaftNode, input: CoreInput<RaftWire>): readonly CoreOutput<RaftWire>[] {
  n.begin();
  switch (input.type) {
    case "peer":
      stepPeer(n, input.from, input.msg);
      break;
    case "client":
      stepClient(n, input.client, input.msg, input.mono, input.access);
      break;
    case "tick":
      stepTick(n, input.now, input.mono);
      break;
    case "persisted":
      n.onPersisted(input.upTo);
      if (n.role === "candidate") tally(n);
      else if (n.role === "leader") maybeCommit(n);
      break;
    case "applied":
      invariant(
        input.upTo <= n.appliedRequested,
        () => `driver applied ${input.upTo} but only ${n.appliedRequested} were handed out`,
      );
      n.applied = Math.max(n.applied, input.upTo);
      answerApplied(n, input.results);
      if (input.admin)
        for (const approved of answerAppliedAccess(n, input.admin)) orderAdmin(n, approved, true);
      break;
    case "queryDone":
      n.readOnly.done();
      n.reply(input.client, {
        type: "queryReply",
        client: input.client,
        qid: input.qid,
        result: input.result,
      });
      break;
    case "snapshotTaken":
      onSnapshotTaken(n, input.index, input.data);
      break;
  }
  return n.end();
}

function stepPeer(n: RaftNode, from: ReplicaId, msg: RaftMessage): void {
  if (from === n.id || !Number.isInteger(from) || from < 0 || from >= n.replicaCount) return;
  // Votes and vote replies handle terms themselves (pre-votes must not move terms).
  if (msg.type === "vote") {
    stepVote(n, from, msg);
    return;
  }
  if (msg.type === "voteReply") {
    stepVoteReply(n, from, msg);
    return;
  }

  if (msg.term > n.term) {
    const fromLeader =
      msg.type === "append" || msg.type === "snapshot" || msg.type === "timeoutNow";
    becomeFollower(n, msg.term, fromLeader ? from : undefined);
  } else if (msg.term < n.term) {
    // PLANTED BUG stale-term-append-accepted: process a deposed leader's AppendEntries.
    if (msg.type === "append" && n.bug === "stale-term-append-accepted") {
      acceptAppend(n, from, msg, msg.term);
      return;
    }
    // Tell a deposed leader about the newer term so it steps down.
    if (msg.type === "append") {
      n.send(from, {
        type: "appendReply",
        term: n.term,
        success: false,
        matchIndex: 0,
        rejectedIndex: msg.prevIndex,
        conflictIndex: 0,
        conflictTerm: 0,
        round: msg.round,
      });
    } else if (msg.type === "snapshot") {
      sendSnapshotReply(n, from, msg.index, 0, false);
    }
    return;
  }

  switch (msg.type) {
    case "append":
      stepAppend(n, from, msg);
      break;
    case "snapshot":
      stepSnapshot(n, from, msg);
      break;
    case "appendReply":
      if (n.role === "leader") stepAppendReply(n, from, msg);
      break;
    case "snapshotReply":
      if (n.role === "leader") stepSnapshotReply(n, from, msg);
      break;
    case "timeoutNow":
      // Leadership transfer: the target campaigns at once, skipping pre-vote and stickiness.
      if (msg.term === n.term && canCampaign(n)) campaign(n, true);
      break;
  }
}

function stepClient(
  n: RaftNode,
  client: ClientId,
  msg: ClientRequestMessage,
  mono: number,
  access: ClientAccess | undefined,
): void {
  // The channel authenticated `client`; a message speaking for another session is dropped.
  if (msg.client !== client) return;
  // Checked when ordered (and again when applied, by the service): a role that does not allow
  // the request, or a revoked key, is answered `forbidden` and nothing is logged.
  const refusal = accessRefusal(msg, access);
  if (refusal) {
    n.reply(client, refusal);
    return;
  }
  // PLANTED BUG lease-read-stale-clock: only ticks move the clock, as before issue 11.
  if (n.bug !== "lease-read-stale-clock") n.mono = Math.max(n.mono, mono);
  switch (msg.type) {
    case "request":
      handleCommand(n, msg, forbiddenCommand(msg, access));
      break;
    case "query":
      handleQuery(n, msg, mono);
      break;
    case "admin": {
      if (isAccessChange(msg.admin)) {
        handleAccessChange(n, msg);
        break;
      }
      orderAdmin(n, msg, false);
      break;
    }
  }
}

/**
 * A membership change or transfer, carried out once its asker is known to be admin at the index
 * it gets: at once when no access change is pending in the log (the check when ordered is that
 * check), else after a logged authorization was checked when applied (core/admin-authorization.ts).
 */
function orderAdmin(n: RaftNode, msg: AdminRequest, authorized: boolean): void {
  const plan = handleAdmin(n, msg, authorized || !accessChangePending(n));
  if (!plan) return;
  if (plan === "authorize") {
    if (isMembershipOp(msg.admin)) requestAuthorization(n, { ...msg, admin: msg.admin });
    return;
  }
  if (plan.next) appendConfig(n, plan.next);
  addAdminWaiter(n, msg);
}

function stepTick(n: RaftNode, now: number, mono: number): void {
  n.now = now;
  n.mono = Math.max(n.mono, mono);
  n.ticksSinceStart++;
  tickAdminWaiters(n);
  tickAccessWaiters(n);
  if (n.role === "leader") tickLeader(n);
  else tickElection(n);
}

// ================================================================== become

/**
 * Steps down to follower of `term` (≥ the current term), optionally knowing its leader. Terms
 * move forward only here and in becomeCandidate.
 */
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
  if (wasLeader) resetLeaderState(n);
}

/** Forgets leader-only state, answering what can no longer be served. */
function resetLeaderState(n: RaftNode): void {
  failReads(n);
  dropBatch(n);
  finishTransfer(n);
  n.progress.clear();
  n.readOnly.reset();
}

function becomePreCandidate(n: RaftNode): void {
  n.role = "precandidate";
  n.leader = undefined;
  n.votes = new Map([[n.id, true]]);
  n.resetElectionTimer();
  // A pre-vote changes nothing durable, so it needs no persist before it leaves.
  requestVotes(n, voteRequest(n, n.term + 1, true, false));
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
  requestVotes(n, voteRequest(n, n.term, false, transfer), n.selfVotePersistId);
  tally(n);
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
  n.readOnly.reset();
  n.transfer = undefined;
  n.proposals.clearBatch();
  syncProgress(n);
  for (const pr of n.progress.values()) pr.becomeProbe(n.log.lastIndex + 1);
  // The noop lets the leader commit entries of earlier terms through one of its own (5.4.2).
  n.termStartIndex = appendAsLeader(n, { type: "noop" }).index;
  broadcastAppend(n);
}

// ================================================================== elections

/** Starts an election: a pre-vote first unless disabled or this is a leadership transfer. */
function campaign(n: RaftNode, transfer: boolean): void {
  if (n.settings.preVote && !transfer) becomePreCandidate(n);
  else becomeCandidate(n, transfer);
}

/** Counts the votes of the current membership's voters; wins, loses or keeps waiting. */
function tally(n: RaftNode): void {
  if (n.role !== "precandidate" && n.role !== "candidate") return;
  const outcome = countVotes(n);
  if (outcome === "won") {
    if (n.role === "precandidate") becomeCandidate(n, false);
    else becomeLeader(n);
  } else if (outcome === "lost") {
    becomeFollower(n, n.term, undefined);
  }
}

function tickElection(n: RaftNode): void {
  n.electionElapsed++;
  if (canCampaign(n) && n.electionElapsed >= n.randomizedElectionTimeout) {
    campaign(n, false);
    return;
  }
  if (n.role === "candidate" && n.electionElapsed % n.settings.retransmitTicks === 0)
    resendVoteRequests(n);
}

function stepVote(n: RaftNode, from: ReplicaId, msg: VoteRequest): void {
  if (ignoresVoteRequest(n, msg)) return;
  if (msg.pre) {
    answerPreVote(n, from, msg);
    return;
  }
  if (msg.term > n.term) becomeFollower(n, msg.term, undefined);
  castVote(n, from, msg);
}

function stepVoteReply(n: RaftNode, from: ReplicaId, msg: VoteReply): void {
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

// ================================================================== leader

/**
 * What a leader does on each tick: close the command batch, resend what seems lost, start a
 * heartbeat round, check that a quorum is still in contact (check-quorum), and advance its
 * timers for transfers, removed replicas and learner promotion.
 */
function tickLeader(n: RaftNode): void {
  flushBatch(n);
  if (n.leaseBlockedTicks > 0) n.leaseBlockedTicks--;
  for (const [peer, pr] of n.progress) {
    if (!pr.waiting) continue;
    if (++pr.stalled < n.settings.retransmitTicks) continue;
    // Something was lost (or is very late): resend from what is known to match.
    if (pr.state === "replicate") pr.becomeProbe(pr.match + 1);
    else pr.probeSent = false;
    pr.stalled = 0;
    replicateTo(n, peer);
  }
  if (++n.heartbeatElapsed >= n.settings.heartbeatTicks) {
    n.heartbeatElapsed = 0;
    startHeartbeatRound(n);
  }
  if (++n.checkQuorumElapsed >= n.settings.electionTicks) {
    n.checkQuorumElapsed = 0;
    // Check-quorum (dissertation 6.2): without contact from a quorum of voters within an
    // election timeout, a leader may have been replaced; it steps down.
    const active = hasQuorum(
      n.membership,
      (id) => id === n.id || n.progress.get(id)?.recentActive === true,
    );
    if (n.settings.checkQuorum && !active) {
      becomeFollower(n, n.term, undefined);
      return;
    }
    for (const pr of n.progress.values()) pr.recentActive = false;
  }
  tickTransfer(n);
  tickRemovedProgress(n);
  maybePromoteLearner(n);
  // The voter set may have shrunk since a read round started.
  confirmReads(n);
}

function stepAppendReply(n: RaftNode, from: ReplicaId, msg: AppendReply): void {
  const pr = n.progress.get(from);
  if (!pr) return;
  pr.recentActive = true;
  if (msg.round > pr.ackedRound) pr.ackedRound = Math.min(msg.round, n.round);
  if (msg.success) {
    invariant(
      msg.matchIndex <= n.log.lastIndex,
      () =>
        `replica ${from} claims to match ${msg.matchIndex} beyond leader's last ${n.log.lastIndex}`,
    );
    const moved = pr.acknowledge(msg.matchIndex);
    // A success that answers the outstanding probe (not, say, a heartbeat) starts streaming.
    if (pr.state === "probe" && msg.matchIndex >= pr.next - 1) pr.becomeReplicate();
    else if (pr.state === "snapshot" && pr.match >= pr.snapshotIndex) pr.becomeReplicate();
    if (moved) maybeCommit(n);
    if (n.role !== "leader") return;
    // Commands that arrived while this round was in flight go out now (sessions.ts).
    flushBatch(n);
    maybeSendTimeoutNow(n);
  } else {
    if (msg.rejectedIndex <= pr.match) return; // stale: that prefix is known to match
    if (pr.state === "probe" && msg.rejectedIndex !== pr.next - 1) return; // answers an older probe
    if (pr.state === "snapshot") return;
    pr.becomeProbe(nextFromHint(n, pr, msg));
  }
  confirmReads(n);
  if (n.role === "leader") replicateTo(n, from);
}

function stepSnapshotReply(n: RaftNode, from: ReplicaId, msg: SnapshotReply): void {
  const pr = n.progress.get(from);
  if (!pr) return;
  pr.recentActive = true;
  if (msg.done) {
    invariant(
      msg.index <= n.log.lastIndex,
      () => `replica ${from} installed snapshot beyond leader's log`,
    );
    pr.acknowledge(msg.index);
    // Back to AppendEntries from there (a newer snapshot is sent if that is needed now).
    if (pr.state === "snapshot") pr.becomeProbe(pr.match + 1);
    maybeCommit(n);
  } else {
    if (pr.state !== "snapshot" || msg.index !== pr.snapshotIndex) return;
    pr.snapshotOffset = msg.received;
    pr.probeSent = false;
    pr.stalled = 0;
  }
  if (n.role === "leader") replicateTo(n, from);
}

/**
 * The commit rule (dissertation 3.6.2, Figure 8): the highest index stored on a quorum of
 * voters commits, but only if its entry is from the leader's current term. The leader counts
 * itself only for entries it has made durable.
 */
function maybeCommit(n: RaftNode): void {
  if (n.role !== "leader") return;
  const index = quorumValue(n.membership, (id) =>
    id === n.id ? n.durableIndex : (n.progress.get(id)?.match ?? 0),
  );
  if (index <= n.commitIndex) return;
  // PLANTED BUG commit-old-term-by-counting: skip the current-term check.
  if (n.log.term(index) !== n.term && n.bug !== "commit-old-term-by-counting") return;
  advanceCommit(n, index);
}

/** Appends a config entry and acts on it at once (a config takes effect when appended). */
function appendConfig(n: RaftNode, next: Membership): void {
  appendAsLeader(n, { type: "config", config: next });
  syncProgress(n);
  broadcastAppend(n);
  // A smaller voter set may already have a quorum for older entries or for pending reads.
  maybeCommit(n);
  confirmReads(n);
}

function maybePromoteLearner(n: RaftNode): void {
  const next = learnerPromotion(n);
  if (next) appendConfig(n, next);
}

// ================================================================== commit

/** Everything that follows from the commit index moving forward, on any role. */
function advanceCommit(n: RaftNode, index: LogIndex): void {
  n.setCommit(index);
  n.applyCommitted();
  maybeTakeSnapshot(n);
  answerAdminWaiters(n);
  if (n.role !== "leader") return;
  syncProgress(n);
  if (handOffIfRemoved(n)) {
    becomeFollower(n, n.term, undefined);
    return;
  }
  startReadRound(n);
  maybePromoteLearner(n);
}

// ================================================================== follower

/**
 * A message only the leader of the current term sends: follow it (a candidate of the same term
 * steps down) and restart the election timer.
 */
function followLeaderOf(n: RaftNode, from: ReplicaId, what: string): void {
  invariant(
    n.role !== "leader",
    () => `replica ${n.id} is leader of term ${n.term} and got ${what} from ${from}`,
  );
  if (n.role !== "follower") becomeFollower(n, n.term, from);
  else n.setLeader(from);
  n.electionElapsed = 0;
}

function stepAppend(n: RaftNode, from: ReplicaId, msg: AppendRequest): void {
  followLeaderOf(n, from, "AppendEntries");
  acceptAppend(n, from, msg, n.term);
}

/** The consistency check and the append, the commit index it carries, then the acknowledgement. */
function acceptAppend(n: RaftNode, from: ReplicaId, msg: AppendRequest, replyTerm: Term): void {
  const lastNew = appendFromLeader(n, from, msg, replyTerm);
  if (lastNew === undefined) return;
  const commit = Math.min(msg.commit, lastNew);
  if (commit > n.commitIndex) advanceCommit(n, commit);
  ackAppend(n, from, msg, replyTerm, lastNew);
}

function stepSnapshot(n: RaftNode, from: ReplicaId, msg: SnapshotChunk): void {
  followLeaderOf(n, from, "InstallSnapshot");
  const snap = receiveSnapshotChunk(n, from, msg);
  if (!snap) return;
  installSnapshot(n, snap.meta, snap.data, snap.time);
  answerAdminWaiters(n);
  sendSnapshotReply(n, from, msg.index, msg.total, true, n.durableAfter());
}
