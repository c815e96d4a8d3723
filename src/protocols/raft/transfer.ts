import type { ReplyResult } from "../../core/client-messages.js";
import type { ClientId, ReplicaId } from "../../core/ids.js";
import { limits } from "../../core/limits.js";
import { isVoter } from "./membership.js";
import type { RaftNode } from "./node.js";
import { replicateTo } from "./replication.js";
import { flushBatch } from "./sessions.js";

/**
 * Leadership transfer (dissertation 3.10): the leader stops taking commands, brings the target's
 * log up to date, then sends it TimeoutNow so it campaigns at once. The transfer is abandoned
 * after an election timeout. The admin request is answered when this leader steps down after
 * sending TimeoutNow, or with an error when the transfer is abandoned.
 */
export function handleTransfer(n: RaftNode, client: ClientId, aid: number, to: ReplicaId): void {
  const answer = (result: ReplyResult): void =>
    n.reply(client, { type: "adminReply", client, aid, result });
  if (to === n.id) {
    answer({ ok: true, value: null });
    return;
  }
  if (!isVoter(n.membership, to)) {
    answer({ ok: false, error: "invalid", message: `replica ${to} is not a voter` });
    return;
  }
  if (n.transfer) {
    if (n.transfer.to === to) {
      if (n.transfer.waiters.length >= limits.raftMaxTransferWaiters)
        answer({ ok: false, error: "busy", message: "too many clients waiting on this transfer" });
      else n.transfer.waiters.push({ client, aid });
    } else
      answer({ ok: false, error: "busy", message: `transferring leadership to ${n.transfer.to}` });
    return;
  }
  // Commands accepted before the transfer still go into the log.
  flushBatch(n);
  n.transfer = { to, elapsed: 0, timeoutSent: false, waiters: [{ client, aid }] };
  maybeSendTimeoutNow(n);
}

/** Sends TimeoutNow once the target's log matches the leader's; otherwise keeps replicating. */
export function maybeSendTimeoutNow(n: RaftNode): void {
  const t = n.transfer;
  if (!t || t.timeoutSent || n.role !== "leader") return;
  const pr = n.progress.get(t.to);
  if (!pr) return;
  if (pr.match === n.log.lastIndex) {
    n.send(t.to, { type: "timeoutNow", term: n.term });
    t.timeoutSent = true;
  } else {
    replicateTo(n, t.to);
  }
}

export function tickTransfer(n: RaftNode): void {
  const t = n.transfer;
  if (!t) return;
  t.elapsed++;
  if (t.elapsed >= n.settings.electionTicks) {
    abortTransfer(n, { ok: false, error: "busy", message: "leadership transfer timed out" });
  } else if (t.timeoutSent && t.elapsed % n.settings.retransmitTicks === 0) {
    // TimeoutNow may have been lost.
    n.send(t.to, { type: "timeoutNow", term: n.term });
  }
}

export function abortTransfer(n: RaftNode, result: ReplyResult): void {
  const t = n.transfer;
  if (!t) return;
  n.transfer = undefined;
  // The target's election (which voters do not resist) may still be running.
  if (t.timeoutSent)
    n.leaseBlockedTicks = limits.raftLeaseBlockElectionTimeouts * n.settings.electionTicks;
  for (const w of t.waiters)
    n.reply(w.client, { type: "adminReply", client: w.client, aid: w.aid, result });
}

/** The leader stepped down: a transfer that reached TimeoutNow succeeded (as far as it can tell). */
export function finishTransfer(n: RaftNode): void {
  const t = n.transfer;
  if (!t) return;
  if (t.timeoutSent) abortTransfer(n, { ok: true, value: null });
  else
    abortTransfer(n, {
      ok: false,
      error: "not-leader",
      message: "lost leadership before the transfer",
    });
}
