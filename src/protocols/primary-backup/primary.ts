import {
  type AccessChange,
  accessPayload,
  accessRefusal,
  type ClientAccess,
  forbiddenCommand,
  isAccessChange,
} from "../../core/access.js";
import type {
  ClientReplyMessage,
  ClientRequestMessage,
  ReplyResult,
} from "../../core/client-messages.js";
import type { ClientId, ReplicaId } from "../../core/ids.js";
import type { EntryPayload, LogEntry } from "../../core/log-entry.js";
import type { AppliedAdmin } from "../../core/replicated-service.js";
import { adoptEpoch, startCampaign } from "./campaign.js";
import type { PbClientRequest } from "./client-messages.js";
import type { AckMessage, Epoch } from "./messages.js";
import type { HeldQuery, Out, PbNode } from "./node.js";
import { advanceCommit, sendTo } from "./shipping.js";

/** The live primary: client requests, batching into entries, acks from backups, confirmed reads. */

export function replyCommand(client: ClientId, seq: number, result: ReplyResult, out: Out[]): void {
  out.push({ type: "reply", client, msg: { type: "reply", client, seq, result }, after: 0 });
}

export function notPrimary(n: PbNode): ReplyResult {
  const leader = n.primary !== undefined && n.primary !== n.id ? n.primary : undefined;
  return leader === undefined
    ? { ok: false, error: "not-leader" }
    : { ok: false, error: "not-leader", leader };
}

export function onClient(
  n: PbNode,
  client: ClientId,
  msg: PbClientRequest,
  out: Out[],
  access?: ClientAccess,
): void {
  // Roles (core/access.ts): queries, admin requests and session openings are refused here; a
  // command the client may not make is logged as a refusal, so every copy is answered alike.
  const refusal = accessRefusal(msg, access);
  if (refusal !== undefined) {
    out.push({ type: "reply", client, msg: refusal, after: 0 });
    return;
  }
  if (msg.epoch !== undefined && msg.epoch > n.epoch && refuseNewerEpoch(n, msg.epoch, out)) {
    // No hint: the primary this replica knows is older than what the client has seen.
    const result = { ok: false, error: "not-leader" } as const;
    out.push({ type: "reply", client, msg: notPrimaryReply(client, msg, result), after: 0 });
    return;
  }
  if (msg.type === "admin" && isAccessChange(msg.admin)) {
    onAccessChange(n, client, msg.aid, msg.admin, out);
    return;
  }
  if (msg.type === "admin") {
    out.push({
      type: "reply",
      client,
      msg: {
        type: "adminReply",
        client,
        aid: msg.aid,
        result: {
          ok: false,
          error: "invalid",
          message: "primary-backup has no membership changes",
        },
      },
      after: 0,
    });
    return;
  }
  if (!n.live) {
    out.push({ type: "reply", client, msg: notPrimaryReply(client, msg, notPrimary(n)), after: 0 });
    return;
  }
  if (msg.type === "query") {
    if (n.pairedWith === undefined) {
      // Alone in its epoch, nobody else may take over (no other replica is eligible).
      out.push({ type: "query", client, qid: msg.qid, q: msg.q, atIndex: n.commit });
    } else {
      // The backup could have taken over: answer once it confirms this epoch after now.
      n.round++;
      n.heldQueries.push({ client, qid: msg.qid, q: msg.q, round: n.round });
      sendTo(n, n.pairedWith, out);
    }
    return;
  }
  const key = `${client}#${msg.seq}`;
  if (n.awaiting.has(key)) return; // logged already; answered when it commits
  const busy = busyReason(n);
  if (busy !== undefined) {
    replyCommand(client, msg.seq, { ok: false, error: "busy", message: busy }, out);
    return;
  }
  n.awaiting.add(key);
  n.batch.push(
    forbiddenCommand(msg, access)
      ? { client, seq: msg.seq, ackedBelow: msg.ackedBelow, cmd: null, forbidden: true }
      : { client, seq: msg.seq, ackedBelow: msg.ackedBelow, cmd: msg.cmd },
  );
  if (n.batch.length >= n.settings.maxBatchCommands) flushBatch(n, out);
}

/** The answer to `msg` that names no result: `result` is a refusal. */
function notPrimaryReply(
  client: ClientId,
  msg: ClientRequestMessage,
  result: ReplyResult,
): ClientReplyMessage {
  if (msg.type === "request") return { type: "reply", client, seq: msg.seq, result };
  if (msg.type === "query") return { type: "queryReply", client, qid: msg.qid, result };
  return { type: "adminReply", client, aid: msg.aid, result };
}

/**
 * A client request from a newer epoch than ours: some replica answered that client in that
 * epoch, so a newer primary exists (or existed) and this replica must not serve. A live primary
 * stops serving at once and asks the arbiter for the next epoch, which either tells it who won
 * (it follows as a backup) or, if the client's epoch was not real, lets it go on in a new epoch;
 * the client's number is never adopted by itself. Returns whether the request is refused.
 */
function refuseNewerEpoch(n: PbNode, epoch: Epoch, out: Out[]): boolean {
  n.clientEpoch = Math.max(n.clientEpoch, epoch);
  if (n.live && n.bug === "old-epoch-client-served") return false;
  n.clientEpochRefusals++;
  if (n.live) startCampaign(n, out);
  return true;
}

/**
 * An access change (setRole, revoke, rotate) on the live primary: logged as its own entry after
 * the pending batch (commands that arrived first see the access they were admitted with), and
 * answered once the service applied it (`answerAppliedAccess`). The asker's role was checked.
 */
function onAccessChange(
  n: PbNode,
  client: ClientId,
  aid: number,
  change: AccessChange,
  out: Out[],
): void {
  const answer = (result: ReplyResult) =>
    out.push({ type: "reply", client, msg: { type: "adminReply", client, aid, result }, after: 0 });
  if (!n.live) {
    answer(notPrimary(n));
    return;
  }
  if (n.accessWaiters.full) {
    answer({ ok: false, error: "busy", message: "too many access changes waiting" });
    return;
  }
  flushBatch(n, out);
  appendEntry(n, accessPayload({ by: client, aid, change }), out);
  n.accessWaiters.add(client, aid);
}

/** Answers the access changes this replica logged, now that the service applied them. */
export function answerAppliedAccess(n: PbNode, results: readonly AppliedAdmin[], out: Out[]): void {
  for (const r of results) {
    if (!n.accessWaiters.take(r.client, r.aid)) continue;
    out.push({
      type: "reply",
      client: r.client,
      msg: { type: "adminReply", client: r.client, aid: r.aid, result: r.result },
      after: 0,
    });
  }
}

/** Why the primary takes no new command now (bounded memory and bounded backup lag). */
export function busyReason(n: PbNode): string | undefined {
  if (n.awaiting.size >= n.settings.maxPending) return "too many commands in flight";
  const paired = n.pairedWith === undefined ? undefined : n.progress.get(n.pairedWith);
  if (paired && n.log.lastIndex - paired.match >= n.settings.maxBackupLag)
    return `the backup is ${n.log.lastIndex - paired.match} entries behind`;
  return undefined;
}

/**
 * Natural batching (as Raft's leader does, raft/sessions.ts): a command is logged and shipped at
 * once while the paired backup has no append awaiting its acknowledgement, since nothing then
 * holds it back. Otherwise it waits in the batch until the backup's next ack (or the next tick):
 * one entry then carries every command that arrived during a round trip and the backup's fsync,
 * so under load the primary persists, ships and the backup persists and acknowledges once per
 * batch instead of once per command. A lone client waits for neither.
 */
export function maybeFlushBatch(n: PbNode, out: Out[]): void {
  if (n.batch.length >= n.settings.maxBatchCommands || !backupBusy(n)) flushBatch(n, out);
}

/** The paired backup has been sent entries it has not acknowledged yet. */
function backupBusy(n: PbNode): boolean {
  const paired = n.pairedWith === undefined ? undefined : n.progress.get(n.pairedWith);
  return paired !== undefined && paired.next - 1 > paired.match;
}

/** Logs the commands received since the last flush as one entry and ships it. */
export function flushBatch(n: PbNode, out: Out[]): void {
  if (n.batch.length === 0 || !n.live) return;
  const commands = n.batch;
  n.batch = [];
  appendEntry(n, { type: "commands", commands }, out);
}

/** Logs one entry at the live primary and ships it to the backup. */
function appendEntry(n: PbNode, payload: EntryPayload, out: Out[]): void {
  const entry: LogEntry = {
    index: n.log.lastIndex + 1,
    term: n.epoch,
    time: n.stampTime(),
    seed: n.random.u32(),
    payload,
  };
  n.log.append(entry);
  // Ship, then write (as Raft's leader does, and VMware FT's primary): the backup's copy is the
  // longer path (a round trip and its own fsync), so the append goes out before the local write
  // is queued, and the two proceed in parallel. The send waits for nothing (after: 0); the
  // output rule still needs both the local write and the backup's ack (advanceCommit).
  for (const [r, p] of n.progress) if (p.next === entry.index) sendTo(n, r, out);
  n.persist(out, [{ type: "append", entries: [entry] }], entry.index);
}

export function onAck(n: PbNode, from: ReplicaId, msg: AckMessage, out: Out[]): void {
  if (msg.epoch > n.epoch) {
    if (n.eligible && msg.epoch === n.asked && msg.epoch === n.epoch + 1) {
      // We asked for that epoch and may have won it in an earlier incarnation whose record
      // of it was lost: ask again to learn the winner (if it is us, nobody else may take
      // over, so dropping out now would leave the epoch without a primary for good).
      if (!n.campaign) startCampaign(n, out);
      return;
    }
    adoptEpoch(n, msg.epoch, undefined, out);
    return;
  }
  if (!n.live || msg.epoch < n.epoch) return;
  const p = n.progress.get(from);
  if (!p) return;
  p.lastAckTick = n.ticks;
  if (!msg.ok) {
    // Its log ends before, or disagrees at, the entry we built on: resume where it surely
    // agrees (its committed prefix is final), or right after its end.
    p.next = msg.last < msg.index ? msg.last + 1 : msg.commit + 1;
    p.next = Math.max(1, Math.min(p.next, n.log.lastIndex + 1));
    sendTo(n, from, out);
    return;
  }
  if (msg.index > p.match) p.match = Math.min(msg.index, n.log.lastIndex);
  if (p.next <= p.match) p.next = p.match + 1;
  const refusesBackup = n.bug === "no-new-backup" && n.epoch > 1;
  if (n.pairedWith === undefined && p.match >= n.log.lastIndex && !refusesBackup) {
    // In sync: from now on every output waits for this backup, which may take over.
    n.pairedWith = from;
  }
  if (from === n.pairedWith && msg.round > p.round) {
    p.round = msg.round;
    releaseQueries(n, p.round, out);
  }
  advanceCommit(n, out);
  if (p.next <= n.log.lastIndex) sendTo(n, from, out);
}

export function releaseQueries(n: PbNode, confirmed: number, out: Out[]): void {
  const kept: HeldQuery[] = [];
  for (const q of n.heldQueries) {
    if (q.round <= confirmed)
      out.push({ type: "query", client: q.client, qid: q.qid, q: q.q, atIndex: n.commit });
    else kept.push(q);
  }
  n.heldQueries = kept;
}
