import type { ReplicaId } from "../../core/ids.js";
import type { CoreInput, CoreStatus, ProtocolCore, ReplicaOptions } from "../../core/protocol.js";
import type { AppliedCommand } from "../../core/replicated-service.js";
import { onFromPrimary, wellFormedAppend } from "./backup.js";
import { ask, goLive, onArbiter, startCampaign } from "./campaign.js";
import { assertPbInvariants } from "./invariants.js";
import type { PrimaryBackupMessage, PrimaryBackupWire } from "./messages.js";
import { type Out, PbNode } from "./node.js";
import type { PrimaryBackupPlantedBug } from "./planted-bugs.js";
import {
  answerAppliedAccess,
  flushBatch,
  maybeFlushBatch,
  onAck,
  onClient,
  replyCommand,
} from "./primary.js";
import { advanceCommit, sendTo } from "./shipping.js";
import { maybeSnapshot, onSnapshotTaken } from "./snapshots.js";

export { type PrimaryBackupRole, primaryBackupRoles } from "./node.js";

/**
 * A primary/backup replica in the style of VMware FT (Scales et al. 2010), as a sans-IO core.
 *
 * The primary orders commands into a log, fixing every nondeterministic input (time, random
 * seed) in the entry, and ships the log to its backup, which replays it. The output rule: a
 * command is applied (and so answered) only once its entry is durable at the primary and, while
 * a backup is paired, acknowledged by the backup with every entry before it. Failure is
 * detected by silence (heartbeats and acks); to go live, a replica must win the arbiter's
 * test-and-set for the next epoch, and only a replica that holds every acknowledged entry of
 * the current epoch (its primary, or its in-sync backup) may ask. The winner consumes every
 * entry it holds, then serves alone until a new backup is brought up to date.
 */
export class PrimaryBackupCore implements ProtocolCore<PrimaryBackupWire> {
  readonly id: ReplicaId;
  private readonly n: PbNode;

  constructor(options: ReplicaOptions, bug?: PrimaryBackupPlantedBug) {
    this.n = new PbNode(options, bug);
    this.id = options.id;
  }

  status(): CoreStatus {
    const n = this.n;
    const paired = n.pairedWith === undefined ? undefined : n.progress.get(n.pairedWith);
    return {
      role: n.role,
      term: n.epoch,
      leader: n.primary,
      commitIndex: n.commit,
      lastIndex: n.log.lastIndex,
      details: {
        eligible: n.eligible,
        pairedWith: n.pairedWith ?? null,
        backupLag: paired ? n.log.lastIndex - paired.match : null,
        ackOn: n.settings.ackOn,
        lastLoss: n.lastLoss ?? null,
        droppedMessages: n.dropped,
        clientEpochRefusals: n.clientEpochRefusals,
      },
    };
  }

  assertInvariants(): void {
    assertPbInvariants(this.n);
  }

  step(input: CoreInput<PrimaryBackupWire>): readonly Out[] {
    const n = this.n;
    const out: Out[] = [];
    switch (input.type) {
      case "tick":
        n.ticks++;
        n.now = Math.max(n.now, input.now);
        flushBatch(n, out); // a batch waits at most one tick, even for a lost ack
        onTick(n, out);
        break;
      case "peer":
        onPeer(n, input.from, input.msg, out);
        break;
      case "client":
        onClient(n, input.client, input.msg, out, input.access);
        break;
      case "persisted":
        onPersisted(n, input.upTo, out);
        break;
      case "applied":
        onApplied(n, input.results, out);
        if (input.admin) answerAppliedAccess(n, input.admin, out);
        break;
      case "queryDone":
        out.push({
          type: "reply",
          client: input.client,
          msg: { type: "queryReply", client: input.client, qid: input.qid, result: input.result },
          after: 0,
        });
        break;
      case "snapshotTaken":
        onSnapshotTaken(n, input.index, input.data, out);
        break;
      case "external":
        onArbiter(n, input.id, input.result, out);
        break;
    }
    maybeFlushBatch(n, out);
    return stampEpoch(n, out);
  }
}

/**
 * Every reply carries the epoch this replica is in as it answers, so a client that has seen a
 * newer epoch can refuse it (client.ts).
 */
function stampEpoch(n: PbNode, out: Out[]): Out[] {
  for (let i = 0; i < out.length; i++) {
    const o = out[i]!;
    if (o.type === "reply") out[i] = { ...o, msg: { ...o.msg, epoch: n.epoch } };
  }
  return out;
}

function onTick(n: PbNode, out: Out[]): void {
  const s = n.settings;
  // An access change lost with its epoch is never answered here; the client retries it.
  n.accessWaiters.tick(4 * s.failTicks);
  if (n.live) {
    if (n.ticks - n.lastBeat >= s.heartbeatTicks) {
      n.lastBeat = n.ticks;
      for (const r of n.others) sendTo(n, r, out);
    }
    const paired = n.pairedWith === undefined ? undefined : n.progress.get(n.pairedWith);
    // The backup fell silent: going on alone needs the next epoch (else it may be taking over).
    if (paired && n.ticks - paired.lastAckTick > s.failTicks) startCampaign(n, out);
    return;
  }
  if (n.campaign) {
    const c = n.campaign;
    if (c.askId !== undefined && n.ticks - c.askedTick >= s.arbiterRetryTicks) {
      if (n.bug === "both-live-after-arbiter-timeout") {
        goLive(n, c.epoch, out);
        return;
      }
      c.askId = undefined; // the answer is lost or late: ask again (a late answer is still used)
    }
    if (c.askId === undefined && n.ticks >= c.retryAt) ask(n, out);
    return;
  }
  if (n.eligible && n.ticks - n.heardTick > s.failTicks + n.jitter) startCampaign(n, out);
}

function onPeer(n: PbNode, from: ReplicaId, msg: PrimaryBackupMessage, out: Out[]): void {
  if (!n.others.includes(from)) {
    n.dropped++;
    return;
  }
  if (msg.type === "append" && !wellFormedAppend(msg)) {
    // The schema checks shapes, not this: entries must continue prevIndex, none from a later
    // epoch than the sender's. Dropped and counted; the primary resends.
    n.dropped++;
    return;
  }
  if (msg.type === "ack") onAck(n, from, msg, out);
  else onFromPrimary(n, from, msg, out);
}

function onPersisted(n: PbNode, upTo: number, out: Out[]): void {
  n.durableId = Math.max(n.durableId, upTo);
  while (n.logWrites.length > 0 && n.logWrites[0]!.id <= upTo) {
    const w = n.logWrites.shift()!;
    n.durableIndex = Math.max(n.durableIndex, Math.min(w.upTo, n.log.lastIndex));
  }
  if (n.live) advanceCommit(n, out);
}

function onApplied(n: PbNode, results: readonly AppliedCommand[], out: Out[]): void {
  if (n.live) {
    for (const r of results) {
      if (!n.awaiting.delete(`${r.client}#${r.seq}`)) continue;
      replyCommand(r.client, r.seq, r.result, out);
    }
  }
  maybeSnapshot(n, out);
}
