import type { PbNode } from "./node.js";

/** The checks the simulator runs after every step (ProtocolCore.assertInvariants). */

export function assertPbInvariants(n: PbNode): void {
  const fail = (what: string) => {
    throw new Error(`primary-backup invariant (replica ${n.id}): ${what}`);
  };
  if (n.commit > n.log.lastIndex)
    fail(`commit ${n.commit} beyond the last index ${n.log.lastIndex}`);
  if (n.commit < n.checkedCommit) fail(`commit went back from ${n.checkedCommit} to ${n.commit}`);
  if (n.epoch < n.checkedEpoch) fail(`epoch went back from ${n.checkedEpoch} to ${n.epoch}`);
  if (n.appliedTo !== n.commit) fail(`applied ${n.appliedTo} is not the commit index ${n.commit}`);
  if (n.log.snapIndex > n.commit)
    fail(`snapshot ${n.log.snapIndex} beyond the commit index ${n.commit}`);
  if (n.live) {
    if (!n.eligible || n.primary !== n.id || n.campaign)
      fail("a live primary must be eligible, know itself as primary and not campaign");
    if (n.bug === undefined && n.commit > n.durableIndex)
      fail(`primary committed ${n.commit} beyond its durable log ${n.durableIndex}`);
    // The output rule: nothing is applied (so answered) before the paired backup acked it.
    const paired = n.pairedWith === undefined ? undefined : n.progress.get(n.pairedWith);
    if (n.bug === undefined && paired && n.commit > paired.match)
      fail(`commit ${n.commit} beyond the paired backup's ack ${paired.match}`);
    // A client that saw a newer epoch in a reply proves this primary deposed.
    if (n.clientEpoch > n.epoch)
      fail(`live in epoch ${n.epoch} after a client came from epoch ${n.clientEpoch}`);
    if (n.awaiting.size > n.settings.maxPending)
      fail(`${n.awaiting.size} awaiting commands exceed maxPending`);
  } else if (n.awaiting.size > 0 && !n.campaign) {
    fail(`${n.awaiting.size} commands wait for their output at a replica that is not primary`);
  }
  n.checkedCommit = n.commit;
  n.checkedEpoch = n.epoch;
}
