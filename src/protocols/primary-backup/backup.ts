import type { LogIndex, ReplicaId } from "../../core/ids.js";
import type { LogEntry } from "../../core/log-entry.js";
import type { PersistOp, SnapshotMeta } from "../../core/protocol.js";
import { adoptEpoch } from "./campaign.js";
import type { AckMessage, AppendMessage, SnapshotMessage } from "./messages.js";
import type { Out, PbNode } from "./node.js";

/** A backup following its primary: epochs, log matching, acks, state transfer. */

export function onFromPrimary(
  n: PbNode,
  from: ReplicaId,
  msg: AppendMessage | SnapshotMessage,
  out: Out[],
): void {
  if (msg.epoch < n.epoch && n.bug !== "old-epoch-accepted") {
    // Refused; the ack's newer epoch tells the old primary it is deposed.
    sendAck(n, from, { ok: false, index: 0 }, 0, msg.round, out);
    return;
  }
  n.ackEpoch = msg.epoch;
  if (msg.epoch > n.epoch) {
    adoptEpoch(n, msg.epoch, from, out);
  } else if (n.live || n.primary === n.id) {
    if (msg.epoch === n.epoch) return; // two primaries in one epoch: cannot happen, ignored
    // old-epoch-accepted: the stale primary's entries win over our own epoch's.
    n.live = false;
    n.awaiting.clear();
    n.progress.clear();
    n.pairedWith = undefined;
  }
  if (n.primary === undefined || msg.epoch < n.epoch) n.primary = from;
  n.heardTick = n.ticks;
  if (msg.type === "append") onAppend(n, from, msg, out);
  else onSnapshot(n, from, msg, out);
}

export function onAppend(n: PbNode, from: ReplicaId, msg: AppendMessage, out: Out[]): void {
  const log = n.log;
  const matches =
    msg.prevIndex <= log.lastIndex &&
    (msg.prevIndex < log.snapIndex || log.epochAt(msg.prevIndex) === msg.prevEpoch);
  const matched = msg.prevIndex + msg.entries.length;
  if (!matches) {
    if (n.bug === "ack-before-receipt")
      sendAck(n, from, { ok: true, index: matched }, 0, msg.round, out);
    else sendAck(n, from, { ok: false, index: msg.prevIndex }, 0, msg.round, out);
    return;
  }
  const ops: PersistOp[] = [];
  const added: LogEntry[] = [];
  for (const e of msg.entries) {
    if (e.index <= log.snapIndex) continue;
    const existing = log.at(e.index);
    if (existing && added.length === 0) {
      if (existing.term === e.term) continue;
      if (e.index <= n.commit)
        throw new Error(
          `primary-backup: entry ${e.index} of epoch ${existing.term} is committed, the primary sent epoch ${e.term}`,
        );
      log.truncateFrom(e.index);
      n.truncated(e.index);
      ops.push({ type: "truncate", from: e.index });
    }
    const kept =
      n.bug === "recompute-nondeterminism-on-backup"
        ? { ...e, time: Math.max(n.now, log.lastTime), seed: n.random.u32() }
        : e;
    log.append(kept);
    added.push(kept);
  }
  if (added.length > 0) ops.push({ type: "append", entries: added });
  if (ops.length > 0) n.persist(out, ops, log.lastIndex);
  if (msg.paired && !n.eligible && msg.epoch === n.epoch) {
    // The primary counts us as in sync: we hold every output of this epoch and may take over.
    n.eligible = true;
    n.persistHardState(out);
  }
  sendAck(n, from, { ok: true, index: matched }, ackAfter(n), msg.round, out);
  const target = Math.min(msg.commit, matched);
  if (target > n.commit) n.commitTo(target, out);
}

export function onSnapshot(n: PbNode, from: ReplicaId, msg: SnapshotMessage, out: Out[]): void {
  if (msg.index > n.commit) {
    const log = n.log;
    const keep = msg.index <= log.lastIndex && log.epochAt(msg.index) === msg.snapEpoch;
    const meta: SnapshotMeta = {
      index: msg.index,
      config: null,
      time: msg.time,
      protocol: { epoch: msg.snapEpoch },
    };
    const ops: PersistOp[] = [];
    if (keep) {
      log.compactTo(msg.index);
    } else {
      log.reset(msg.index, msg.snapEpoch, msg.time);
      n.truncated(msg.index + 1);
      ops.push({ type: "truncate", from: msg.index + 1 });
    }
    ops.push({ type: "snapshot", meta, data: msg.data });
    n.persist(out, ops, log.lastIndex);
    n.snapshot = { index: msg.index, epoch: msg.snapEpoch, time: msg.time, data: msg.data };
    n.commit = msg.index;
    n.appliedTo = msg.index;
    if (n.bug !== "new-backup-wrong-start")
      out.push({ type: "installSnapshot", meta, data: msg.data });
  }
  sendAck(n, from, { ok: true, index: msg.index }, ackAfter(n), msg.round, out);
}

/** The persist an ack waits for: none on receipt, the newest log write in durable mode. */
export function ackAfter(n: PbNode): number {
  return n.settings.ackOn === "durable" ? n.logPersistId : 0;
}

export function sendAck(
  n: PbNode,
  to: ReplicaId,
  verdict: { ok: boolean; index: LogIndex },
  after: number,
  round: number,
  out: Out[],
): void {
  const msg: AckMessage = {
    type: "ack",
    epoch: n.bug === "old-epoch-accepted" ? n.ackEpoch : n.epoch,
    ok: verdict.ok,
    index: verdict.index,
    last: n.log.lastIndex,
    commit: n.commit,
    round,
  };
  out.push({ type: "send", to, msg, after });
}

/** Entries follow prevIndex without gaps, and none is from an epoch after the sender's. */
export function wellFormedAppend(msg: AppendMessage): boolean {
  if (msg.prevEpoch > msg.epoch) return false;
  let previousEpoch = msg.prevEpoch;
  for (let i = 0; i < msg.entries.length; i++) {
    const e = msg.entries[i]!;
    if (e.index !== msg.prevIndex + 1 + i || e.term > msg.epoch || e.term < previousEpoch)
      return false;
    previousEpoch = e.term;
  }
  return true;
}
