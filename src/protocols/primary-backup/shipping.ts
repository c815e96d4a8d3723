import type { ReplicaId } from "../../core/ids.js";
import type { AppendMessage, SnapshotMessage } from "./messages.js";
import type { Out, PbNode, Progress } from "./node.js";

/** The primary ships its log (appends, heartbeats, snapshots) and applies the commit rule. */

/** The primary's commit rule: durable here and, while paired, acknowledged by the backup. */
export function advanceCommit(n: PbNode, out: Out[]): void {
  let target = n.durableIndex;
  const paired = n.pairedWith === undefined ? undefined : n.progress.get(n.pairedWith);
  if (paired && n.bug !== "reply-before-backup-ack") target = Math.min(target, paired.match);
  if (target > n.commit) n.commitTo(target, out);
}

export function sendTo(n: PbNode, r: ReplicaId, out: Out[]): void {
  const p = n.progress.get(r);
  if (!p) return;
  if (p.next <= n.log.snapIndex) {
    sendSnapshot(n, r, p, out);
    return;
  }
  const prevIndex = p.next - 1;
  const to = Math.min(n.log.lastIndex, p.next + n.settings.maxEntriesPerMessage - 1);
  const entries = p.next <= to ? n.log.slice(p.next, to) : [];
  const msg: AppendMessage = {
    type: "append",
    epoch: n.epoch,
    prevIndex,
    prevEpoch: n.log.epochAt(prevIndex)!,
    entries,
    commit: n.commit,
    paired: n.pairedWith === r,
    round: n.round,
  };
  out.push({ type: "send", to: r, msg, after: 0 });
  p.next += entries.length;
}

export function sendSnapshot(n: PbNode, r: ReplicaId, p: Progress, out: Out[]): void {
  const snap = n.snapshot;
  if (!snap || snap.index !== n.log.snapIndex) return;
  // Resend only after the previous copy had time to be acknowledged.
  if (n.ticks - p.snapshotSentTick < n.settings.failTicks / 2) return;
  p.snapshotSentTick = n.ticks;
  const msg: SnapshotMessage = {
    type: "snapshot",
    epoch: n.epoch,
    index: snap.index,
    snapEpoch: snap.epoch,
    time: snap.time,
    data: snap.data,
    round: n.round,
  };
  out.push({ type: "send", to: r, msg, after: 0 });
}
