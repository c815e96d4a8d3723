import type { QueryRequest } from "../../core/client-messages.js";
import type { LogIndex } from "../../core/ids.js";
import { hasQuorum, quorumValue } from "./membership.js";
import type { PendingRead, RaftNode } from "./node.js";
import { sendHeartbeat } from "./replication.js";

/**
 * Linearizable reads without writing the log: ReadIndex (dissertation 6.4). The leader notes
 * its commit index, confirms it is still leader by a heartbeat round that a quorum echoes, and
 * then lets the driver run the query once the service has applied that index. Reads that
 * arrive while a round is in flight share the next round. Optional leader leases (6.4.1) skip
 * the round while a quorum acknowledged a heartbeat recently enough, relying on bounded drift.
 */

export function handleQuery(n: RaftNode, msg: QueryRequest): void {
  const read: PendingRead = { client: msg.client, qid: msg.qid, q: msg.q };
  // PLANTED BUG read-index-without-quorum: answer at the local commit index with no confirmation,
  // as leader and also as a deposed leader that has heard of no newer term (say, one that stepped
  // down by check-quorum), so reads go stale while another leader takes writes.
  if (n.bug === "read-index-without-quorum" && (n.role === "leader" || n.ledTerm === n.term)) {
    runQuery(n, read, n.commitIndex);
    return;
  }
  if (n.role !== "leader") {
    n.reply(msg.client, {
      type: "queryReply",
      client: msg.client,
      qid: msg.qid,
      result: n.notLeader(),
    });
    return;
  }
  if (
    n.settings.leaseReads &&
    n.committedInTerm &&
    !n.transfer &&
    n.leaseBlockedTicks === 0 &&
    leaseValid(n)
  ) {
    runQuery(n, read, n.commitIndex);
    return;
  }
  const waiting = n.readQueue.length + n.readRounds.reduce((sum, r) => sum + r.reads.length, 0);
  if (waiting >= n.settings.maxPendingRequests) {
    n.reply(msg.client, {
      type: "queryReply",
      client: msg.client,
      qid: msg.qid,
      result: { ok: false, error: "busy", message: "too many reads waiting" },
    });
    return;
  }
  n.readQueue.push(read);
  startReadRound(n);
}

function runQuery(n: RaftNode, read: PendingRead, atIndex: LogIndex): void {
  n.emit({ type: "query", client: read.client, qid: read.qid, q: read.q, atIndex });
}

/**
 * Starts a confirmation round for the queued reads, once the leader has committed an entry of
 * its term (before that its commit index may be behind the cluster's) and no round is in flight.
 */
export function startReadRound(n: RaftNode): void {
  if (!n.committedInTerm || n.readQueue.length === 0 || n.readRounds.length > 0) return;
  n.round++;
  n.roundSentAt.set(n.round, n.now);
  n.readRounds.push({ round: n.round, readIndex: n.commitIndex, reads: n.readQueue });
  n.readQueue = [];
  for (const [peer, pr] of n.progress) sendHeartbeat(n, peer, pr);
  confirmReads(n);
}

/** Serves every read round that a quorum of voters has confirmed by echoing its round or a later one. */
export function confirmReads(n: RaftNode): void {
  if (n.role !== "leader") return;
  for (;;) {
    const first = n.readRounds[0];
    if (!first) break;
    const confirmed = hasQuorum(
      n.membership,
      (id) => id === n.id || (n.progress.get(id)?.ackedRound ?? 0) >= first.round,
    );
    if (!confirmed) break;
    n.readRounds.shift();
    for (const read of first.reads) runQuery(n, read, first.readIndex);
  }
  startReadRound(n);
}

/**
 * The lease holds while a quorum (counting this leader) acknowledged heartbeats sent less than
 * (electionTicks - 1) ticks ago, shortened by the drift bound: until then no voter will grant a
 * vote to anyone else (stickiness), so no other leader can exist.
 */
export function leaseValid(n: RaftNode): boolean {
  const leaseMs = (n.settings.electionTicks - 1) * n.tickMs * (1 - n.settings.maxClockDrift);
  const since = quorumValue(n.membership, (id) => {
    if (id === n.id) return n.now;
    const round = n.progress.get(id)?.ackedRound ?? 0;
    return n.roundSentAt.get(round) ?? Number.MIN_SAFE_INTEGER;
  });
  return n.now < since + leaseMs;
}

/** Leadership lost: reads not yet handed to the driver are refused (they had no effect). */
export function failReads(n: RaftNode): void {
  const reads = [...n.readRounds.flatMap((r) => r.reads), ...n.readQueue];
  n.readRounds = [];
  n.readQueue = [];
  for (const read of reads) {
    n.reply(read.client, {
      type: "queryReply",
      client: read.client,
      qid: read.qid,
      result: n.notLeader(),
    });
  }
}
