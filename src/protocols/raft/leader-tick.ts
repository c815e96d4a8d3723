import { becomeFollower } from "./election.js";
import { hasQuorum } from "./membership.js";
import type { RaftNode } from "./node.js";
import { confirmReads } from "./read-index.js";
import { maybePromoteLearner, tickRemovedProgress } from "./reconfig.js";
import { broadcastHeartbeat, replicateTo } from "./replication.js";
import { flushBatch } from "./sessions.js";
import { tickTransfer } from "./transfer.js";

/**
 * What a leader does on each tick: close the command batch, resend what seems lost, send
 * heartbeats, check that a quorum is still in contact (check-quorum), and advance its timers
 * for transfers, removed replicas and learner promotion.
 */
export function tickLeader(n: RaftNode): void {
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
    broadcastHeartbeat(n);
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
