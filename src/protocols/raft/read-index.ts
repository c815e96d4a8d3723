import type { QueryRequest } from "../../core/client-messages.js";
import type { LogIndex } from "../../core/ids.js";
import type { RaftNode } from "./node.js";
import { hasQuorum, quorumValue } from "./quorum.js";
import type { PendingRead } from "./read-only.js";
import { startHeartbeatRound } from "./replication.js";

/**
 * Linearizable reads without writing the log: ReadIndex (dissertation 6.4). The leader notes
 * its commit index, confirms it is still leader by a heartbeat round that a quorum echoes, and
 * then lets the driver run the query once the service has applied that index. Reads that
 * arrive while a round is in flight share the next round. Optional leader leases (6.4.1) skip
 * the round while a quorum acknowledged a heartbeat recently enough, relying on bounded drift
 * and on `now`, the driver's monotonic clock when the read arrived (see leaseValid).
 */

export function handleQuery(n: RaftNode, msg: QueryRequest, now: number): void {
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
  // Lease reads obey the same pending-read bound as ReadIndex reads (they wait in the driver
  // until the service has applied the commit index).
  if (n.readOnly.pending >= n.settings.maxPendingRequests) {
    n.reply(msg.client, {
      type: "queryReply",
      client: msg.client,
      qid: msg.qid,
      result: { ok: false, error: "busy", message: "too many reads waiting" },
    });
    return;
  }
  // PLANTED BUG lease-read-stale-clock: check the lease against the clock of the last tick,
  // which after a process pause is from before the pause.
  const readAt = n.bug === "lease-read-stale-clock" ? n.mono : Math.max(n.mono, now);
  if (
    n.settings.leaseReads &&
    n.committedInTerm &&
    !n.transfer &&
    n.leaseBlockedTicks === 0 &&
    leaseValid(n, readAt)
  ) {
    runQuery(n, read, n.commitIndex);
    return;
  }
  n.readOnly.enqueue(read);
  startReadRound(n);
}

function runQuery(n: RaftNode, read: PendingRead, atIndex: LogIndex): void {
  n.readOnly.handedOut();
  n.emit({ type: "query", client: read.client, qid: read.qid, q: read.q, atIndex });
}

/**
 * Starts a confirmation round for the queued reads, once the leader has committed an entry of
 * its term (before that its commit index may be behind the cluster's) and no round is in flight.
 */
export function startReadRound(n: RaftNode): void {
  if (!n.committedInTerm || n.readOnly.queued === 0 || n.readOnly.roundInFlight) return;
  n.readOnly.startRound(n.round + 1, n.commitIndex);
  startHeartbeatRound(n);
  confirmReads(n);
}

/** Serves every read round that a quorum of voters has confirmed by echoing its round or a later one. */
export function confirmReads(n: RaftNode): void {
  if (n.role !== "leader") return;
  const confirmed = n.readOnly.takeConfirmed((round) =>
    hasQuorum(n.membership, (id) => id === n.id || (n.progress.get(id)?.ackedRound ?? 0) >= round),
  );
  for (const r of confirmed) for (const read of r.reads) runQuery(n, read, r.readIndex);
  startReadRound(n);
}

/**
 * The lease holds at monotonic time `now` while a quorum (counting this leader) acknowledged
 * heartbeats sent less than (electionTicks - 1) ticks before, shortened by the drift bound:
 * until then no voter will grant a vote to anyone else (stickiness), so no other leader can
 * exist. `now` must be the time the read arrived, not the last tick (after a pause that tick
 * is from before it).
 */
export function leaseValid(n: RaftNode, now: number): boolean {
  const leaseMs = (n.settings.electionTicks - 1) * n.tickMs * (1 - n.settings.maxClockDrift);
  const since = quorumValue(n.membership, (id) => {
    if (id === n.id) return now;
    const round = n.progress.get(id)?.ackedRound ?? 0;
    return n.readOnly.roundSentAt(round) ?? Number.MIN_SAFE_INTEGER;
  });
  return now < since + leaseMs;
}

/** Leadership lost: reads not yet handed to the driver are refused (they had no effect). */
export function failReads(n: RaftNode): void {
  for (const read of n.readOnly.takeAll()) {
    n.reply(read.client, {
      type: "queryReply",
      client: read.client,
      qid: read.qid,
      result: n.notLeader(),
    });
  }
}
