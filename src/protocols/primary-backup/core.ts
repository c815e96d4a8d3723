import type { ClientRequestMessage, ReplyResult } from "../../core/client-messages.js";
import type { ClientId, LogIndex, ReplicaId } from "../../core/ids.js";
import type { LogEntry, LoggedCommand } from "../../core/log-entry.js";
import type { Random } from "../../core/prng.js";
import type {
  CoreInput,
  CoreOutput,
  CoreStatus,
  ExternalResult,
  PersistOp,
  ProtocolCore,
  ReplicaOptions,
  SnapshotMeta,
} from "../../core/protocol.js";
import type { AppliedCommand } from "../../core/replicated-service.js";
import { hardStateValue, parseHardState } from "./hard-state.js";
import { PbLog } from "./log.js";
import type {
  AckMessage,
  AppendMessage,
  ArbiterAnswer,
  Epoch,
  PrimaryBackupMessage,
  PrimaryBackupWire,
  SnapshotMessage,
} from "./messages.js";
import type { PrimaryBackupPlantedBug } from "./planted-bugs.js";
import { type PrimaryBackupSettings, parsePrimaryBackupSettings } from "./settings.js";
import { snapshotEpoch } from "./snapshot-meta.js";

type Out = CoreOutput<PrimaryBackupWire>;

/** Roles a primary/backup replica reports (StatusDeclaration.roles). */
export const primaryBackupRoles = ["primary", "backup", "recovering", "campaigning"] as const;
export type PrimaryBackupRole = (typeof primaryBackupRoles)[number];

/** What a live primary knows of another replica's copy of its log. */
interface Progress {
  /** Next index to send. */
  next: LogIndex;
  /** Highest index the replica acknowledged holding (in this epoch). */
  match: LogIndex;
  lastAckTick: number;
  /** Highest read-confirmation round it echoed. */
  round: number;
  snapshotSentTick: number;
}

interface Campaign {
  readonly epoch: Epoch;
  askId: number | undefined;
  askedTick: number;
  retryAt: number;
}

interface HeldQuery {
  readonly client: ClientId;
  readonly qid: number;
  readonly q: import("../../core/value.js").Value;
  readonly round: number;
}

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
  private readonly settings: PrimaryBackupSettings;
  private readonly random: Random;
  private readonly others: readonly ReplicaId[];

  // Hard state.
  private epoch: Epoch;
  private eligible: boolean;
  private asked: Epoch;
  /** `asked` as this incarnation found it on disk. */
  private readonly askedBefore: Epoch;

  private primary: ReplicaId | undefined;
  private live = false;
  private readonly log: PbLog;
  private commit: LogIndex;
  /** Highest index sent to the service in an apply output (always the commit index). */
  private appliedTo: LogIndex;
  private snapshot: { index: LogIndex; epoch: Epoch; time: number; data: Uint8Array } | undefined;
  private snapshotInFlight = false;

  private ticks = 0;
  private now = 0;
  /** Last tick with traffic from the primary of this epoch (backup side). */
  private heardTick = 0;
  /** Spreads the first campaigns of replicas that start together. */
  private readonly jitter: number;

  private nextPersistId = 1;
  private durableId = 0;
  /** Id of the newest persist that wrote the log (an ack in durable mode waits for it). */
  private logPersistId = 0;
  /** Every entry ≤ this is durable in this replica's log. */
  private durableIndex: LogIndex;
  private readonly logWrites: { id: number; upTo: LogIndex }[] = [];

  // Live primary.
  private readonly progress = new Map<ReplicaId, Progress>();
  private pairedWith: ReplicaId | undefined;
  private readonly awaiting = new Set<string>();
  private batch: LoggedCommand[] = [];
  private round = 0;
  private heldQueries: HeldQuery[] = [];
  private lastBeat = 0;

  private campaign: Campaign | undefined;
  private nextExternalId = 1;
  /** Peer messages dropped as malformed or from outside the configuration. */
  private dropped = 0;
  /** Why this replica is not primary, when it lost a test-and-set (reported in status). */
  private lastLoss: string | undefined;

  /** Epoch of the primary message being answered (the old-epoch-accepted bug acks in it). */
  private ackEpoch: Epoch = 0;

  /** What assertInvariants saw last (it checks that they only grow). */
  private checkedCommit = 0;
  private checkedEpoch = 0;

  constructor(
    options: ReplicaOptions,
    private readonly bug?: PrimaryBackupPlantedBug,
  ) {
    this.id = options.id;
    this.settings = parsePrimaryBackupSettings(options.config.settings);
    this.random = options.random;
    this.others = options.config.replicas.map((r) => r.id).filter((id) => id !== options.id);
    const hard = parseHardState(options.durable.hardState);
    this.epoch = hard.epoch;
    this.eligible = hard.eligible;
    this.asked = hard.asked;
    this.askedBefore = hard.asked;
    const snap = options.durable.snapshot;
    const snapIndex = snap?.meta.index ?? 0;
    const snapEpoch = snap ? snapshotEpoch(snap.meta) : 0;
    const snapTime = snap?.meta.time ?? 0;
    this.log = new PbLog(snapIndex, snapEpoch, snapTime, options.durable.entries);
    if (snap)
      this.snapshot = { index: snapIndex, epoch: snapEpoch, time: snapTime, data: snap.data };
    // Nothing after the snapshot is known committed until a primary says so (or this replica
    // goes live and consumes its log).
    this.commit = snapIndex;
    this.appliedTo = snapIndex;
    this.durableIndex = this.log.lastIndex;
    this.jitter = this.random.int(this.settings.failTicks);
  }

  // ---- status and invariants ---------------------------------------------------------------

  private get role(): PrimaryBackupRole {
    if (this.live) return "primary";
    if (this.campaign) return "campaigning";
    if (this.eligible && this.primary !== undefined && this.epoch > 0) return "backup";
    return "recovering";
  }

  status(): CoreStatus {
    const paired = this.pairedWith === undefined ? undefined : this.progress.get(this.pairedWith);
    return {
      role: this.role,
      term: this.epoch,
      leader: this.primary,
      commitIndex: this.commit,
      lastIndex: this.log.lastIndex,
      details: {
        eligible: this.eligible,
        pairedWith: this.pairedWith ?? null,
        backupLag: paired ? this.log.lastIndex - paired.match : null,
        ackOn: this.settings.ackOn,
        lastLoss: this.lastLoss ?? null,
        droppedMessages: this.dropped,
      },
    };
  }

  assertInvariants(): void {
    const fail = (what: string) => {
      throw new Error(`primary-backup invariant (replica ${this.id}): ${what}`);
    };
    if (this.commit > this.log.lastIndex)
      fail(`commit ${this.commit} beyond the last index ${this.log.lastIndex}`);
    if (this.commit < this.checkedCommit)
      fail(`commit went back from ${this.checkedCommit} to ${this.commit}`);
    if (this.epoch < this.checkedEpoch)
      fail(`epoch went back from ${this.checkedEpoch} to ${this.epoch}`);
    if (this.appliedTo !== this.commit)
      fail(`applied ${this.appliedTo} is not the commit index ${this.commit}`);
    if (this.log.snapIndex > this.commit)
      fail(`snapshot ${this.log.snapIndex} beyond the commit index ${this.commit}`);
    if (this.live) {
      if (!this.eligible || this.primary !== this.id || this.campaign)
        fail("a live primary must be eligible, know itself as primary and not campaign");
      if (this.bug === undefined && this.commit > this.durableIndex)
        fail(`primary committed ${this.commit} beyond its durable log ${this.durableIndex}`);
      // The output rule: nothing is applied (so answered) before the paired backup acked it.
      const paired = this.pairedWith === undefined ? undefined : this.progress.get(this.pairedWith);
      if (this.bug === undefined && paired && this.commit > paired.match)
        fail(`commit ${this.commit} beyond the paired backup's ack ${paired.match}`);
      if (this.awaiting.size > this.settings.maxPending)
        fail(`${this.awaiting.size} awaiting commands exceed maxPending`);
    } else if (this.awaiting.size > 0 && !this.campaign) {
      fail(`${this.awaiting.size} commands await output at a replica that is not primary`);
    }
    this.checkedCommit = this.commit;
    this.checkedEpoch = this.epoch;
  }

  // ---- dispatch ----------------------------------------------------------------------------

  step(input: CoreInput<PrimaryBackupWire>): readonly Out[] {
    const out: Out[] = [];
    switch (input.type) {
      case "tick":
        this.ticks++;
        this.now = Math.max(this.now, input.now);
        this.onTick(out);
        break;
      case "peer":
        this.onPeer(input.from, input.msg, out);
        break;
      case "client":
        this.onClient(input.client, input.msg, out);
        break;
      case "persisted":
        this.onPersisted(input.upTo, out);
        break;
      case "applied":
        this.onApplied(input.results, out);
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
        this.onSnapshotTaken(input.index, input.data, out);
        break;
      case "external":
        this.onArbiter(input.id, input.result, out);
        break;
    }
    this.flushBatch(out);
    return out;
  }

  private onTick(out: Out[]): void {
    const s = this.settings;
    if (this.live) {
      if (this.ticks - this.lastBeat >= s.heartbeatTicks) {
        this.lastBeat = this.ticks;
        for (const r of this.others) this.sendTo(r, out);
      }
      const paired = this.pairedWith === undefined ? undefined : this.progress.get(this.pairedWith);
      // The backup fell silent: going on alone needs the next epoch (else it may be taking over).
      if (paired && this.ticks - paired.lastAckTick > s.failTicks) this.startCampaign(out);
      return;
    }
    if (this.campaign) {
      const c = this.campaign;
      if (c.askId !== undefined && this.ticks - c.askedTick >= s.arbiterRetryTicks) {
        if (this.bug === "both-live-after-arbiter-timeout") {
          this.goLive(c.epoch, out);
          return;
        }
        c.askId = undefined; // the answer is lost or late: ask again (a late answer is still used)
      }
      if (c.askId === undefined && this.ticks >= c.retryAt) this.ask(out);
      return;
    }
    if (this.eligible && this.ticks - this.heardTick > s.failTicks + this.jitter)
      this.startCampaign(out);
  }

  private onPeer(from: ReplicaId, msg: PrimaryBackupMessage, out: Out[]): void {
    if (!this.others.includes(from)) {
      this.dropped++;
      return;
    }
    if (msg.type === "append" && !wellFormedAppend(msg)) {
      // The schema checks shapes, not this: entries must continue prevIndex, none from a later
      // epoch than the sender's. Dropped and counted; the primary resends.
      this.dropped++;
      return;
    }
    if (msg.type === "ack") this.onAck(from, msg, out);
    else this.onFromPrimary(from, msg, out);
  }

  // ---- persistence -------------------------------------------------------------------------

  /** Emits a persist output; `logUpTo` says it writes the log up to that index. */
  private persist(out: Out[], ops: readonly PersistOp[], logUpTo?: LogIndex): number {
    const id = this.nextPersistId++;
    out.push({ type: "persist", id, ops });
    if (logUpTo !== undefined) {
      this.logPersistId = id;
      this.logWrites.push({ id, upTo: logUpTo });
    }
    return id;
  }

  private persistHardState(out: Out[]): number {
    return this.persist(out, [
      {
        type: "hardState",
        state: hardStateValue({ epoch: this.epoch, eligible: this.eligible, asked: this.asked }),
      },
    ]);
  }

  /** The log lost every entry ≥ from: what was durable there no longer counts. */
  private truncated(from: LogIndex): void {
    this.durableIndex = Math.min(this.durableIndex, from - 1);
    for (const w of this.logWrites) w.upTo = Math.min(w.upTo, from - 1);
  }

  private onPersisted(upTo: number, out: Out[]): void {
    this.durableId = Math.max(this.durableId, upTo);
    while (this.logWrites.length > 0 && this.logWrites[0]!.id <= upTo) {
      const w = this.logWrites.shift()!;
      this.durableIndex = Math.max(this.durableIndex, Math.min(w.upTo, this.log.lastIndex));
    }
    if (this.live) this.advanceCommit(out);
  }

  // ---- commit and apply --------------------------------------------------------------------

  /** The primary's commit rule: durable here and, while paired, acknowledged by the backup. */
  private advanceCommit(out: Out[]): void {
    let target = this.durableIndex;
    const paired = this.pairedWith === undefined ? undefined : this.progress.get(this.pairedWith);
    if (paired && this.bug !== "reply-before-backup-ack") target = Math.min(target, paired.match);
    if (target > this.commit) this.commitTo(target, out);
  }

  private commitTo(index: LogIndex, out: Out[]): void {
    if (index < this.commit)
      throw new Error(`primary-backup: commit would go back from ${this.commit} to ${index}`);
    if (index === this.commit) return;
    this.commit = index;
    const entries = this.log.slice(this.appliedTo + 1, index);
    this.appliedTo = index;
    out.push({ type: "apply", entries });
  }

  private onApplied(results: readonly AppliedCommand[], out: Out[]): void {
    if (this.live) {
      for (const r of results) {
        if (!this.awaiting.delete(`${r.client}#${r.seq}`)) continue;
        this.replyCommand(r.client, r.seq, r.result, out);
      }
    }
    this.maybeSnapshot(out);
  }

  private maybeSnapshot(out: Out[]): void {
    const every = this.settings.snapshotEvery;
    if (every === 0 || this.snapshotInFlight) return;
    if (this.appliedTo - this.log.snapIndex >= every) {
      this.snapshotInFlight = true;
      out.push({ type: "takeSnapshot", index: this.appliedTo });
    }
  }

  private onSnapshotTaken(index: LogIndex, data: Uint8Array, out: Out[]): void {
    this.snapshotInFlight = false;
    const entry = this.log.at(index);
    if (!entry) return; // a state transfer replaced the log meanwhile
    const meta: SnapshotMeta = {
      index,
      config: null,
      time: entry.time,
      protocol: { epoch: entry.term },
    };
    this.persist(out, [{ type: "snapshot", meta, data }]);
    this.log.compactTo(index);
    this.snapshot = { index, epoch: entry.term, time: entry.time, data };
  }

  // ---- the arbiter and going live ----------------------------------------------------------

  private startCampaign(out: Out[]): void {
    if (!this.eligible) return;
    this.live = false;
    this.heldQueries = []; // reads wait for a primary that can confirm itself
    this.campaign = { epoch: this.epoch + 1, askId: undefined, askedTick: this.ticks, retryAt: 0 };
    if (this.bug === "go-live-without-arbiter") {
      this.goLive(this.epoch + 1, out);
      return;
    }
    this.ask(out);
  }

  /**
   * Asks the arbiter for the campaign's epoch, once every write is durable: a winner then holds
   * durably every entry it acknowledged (even in the receipt ack mode), and its disk says that
   * it asked (see PbHardState.asked).
   */
  private ask(out: Out[]): void {
    const c = this.campaign!;
    if (this.asked < c.epoch) {
      this.asked = c.epoch;
      this.persistHardState(out);
    }
    if (this.durableId < this.nextPersistId - 1) return; // the next tick tries again
    c.askId = this.nextExternalId++;
    c.askedTick = this.ticks;
    out.push({ type: "external", id: c.askId, request: { epoch: c.epoch, replica: this.id } });
  }

  private onArbiter(id: number, result: ExternalResult<ArbiterAnswer>, out: Out[]): void {
    const c = this.campaign;
    if (!c) return; // a late answer to a campaign that is over (its epoch is settled)
    if (!result.ok) {
      if (id === c.askId) {
        c.askId = undefined;
        c.retryAt = this.ticks + this.settings.arbiterRetryTicks;
      }
      return;
    }
    const { epoch, winner } = result.answer;
    if (epoch !== c.epoch || this.epoch >= epoch) return;
    if (winner === this.id && epoch <= this.askedBefore) {
      // Won in an earlier incarnation, which may have gone live and logged entries this one
      // lost: this epoch's (index, epoch) names are spent. Hold the epoch, go live in the next.
      this.epoch = epoch;
      this.primary = this.id;
      this.campaign = undefined;
      this.persistHardState(out);
      this.startCampaign(out);
    } else if (winner === this.id) this.goLive(epoch, out);
    else {
      this.lastLoss = `lost epoch ${epoch} to replica ${winner}; rejoining as its backup`;
      this.adoptEpoch(epoch, winner, out);
    }
  }

  /**
   * Won the epoch: consume every entry held (they commit in order as they are durable here),
   * mark the epoch's start with an entry of its own, and serve alone until a backup is in sync.
   */
  private goLive(epoch: Epoch, out: Out[]): void {
    this.campaign = undefined;
    if (this.bug === "go-live-before-consuming-log" && this.log.lastIndex > this.commit) {
      const from = this.commit + 1;
      this.log.truncateFrom(from);
      this.truncated(from);
      this.persist(out, [{ type: "truncate", from }], this.commit);
    }
    this.epoch = epoch;
    this.eligible = true;
    this.primary = this.id;
    this.live = true;
    this.lastLoss = undefined;
    this.pairedWith = undefined;
    this.heldQueries = [];
    const marker: LogEntry = {
      index: this.log.lastIndex + 1,
      term: epoch,
      time: this.stampTime(),
      seed: this.random.u32(),
      payload: { type: "noop" },
    };
    this.log.append(marker);
    this.persist(
      out,
      [
        { type: "hardState", state: hardStateValue({ epoch, eligible: true, asked: this.asked }) },
        { type: "append", entries: [marker] },
      ],
      marker.index,
    );
    this.progress.clear();
    for (const r of this.others) {
      this.progress.set(r, {
        next: marker.index,
        match: 0,
        lastAckTick: this.ticks,
        round: 0,
        snapshotSentTick: -Infinity,
      });
    }
    this.lastBeat = this.ticks;
    for (const r of this.others) this.sendTo(r, out);
    this.advanceCommit(out);
  }

  /** A newer epoch exists: follow it (as a backup that is not in sync yet). */
  private adoptEpoch(epoch: Epoch, primary: ReplicaId | undefined, out: Out[]): void {
    this.epoch = epoch;
    this.eligible = false;
    this.primary = primary;
    this.live = false;
    this.campaign = undefined;
    this.awaiting.clear();
    this.batch = [];
    this.heldQueries = [];
    this.pairedWith = undefined;
    this.progress.clear();
    this.heardTick = this.ticks;
    this.persistHardState(out);
  }

  private stampTime(): number {
    return Math.max(this.log.lastTime, this.now);
  }

  // ---- primary: clients --------------------------------------------------------------------

  private replyCommand(client: ClientId, seq: number, result: ReplyResult, out: Out[]): void {
    out.push({ type: "reply", client, msg: { type: "reply", client, seq, result }, after: 0 });
  }

  private notPrimary(): ReplyResult {
    const leader =
      this.primary !== undefined && this.primary !== this.id ? this.primary : undefined;
    return leader === undefined
      ? { ok: false, error: "not-leader" }
      : { ok: false, error: "not-leader", leader };
  }

  private onClient(client: ClientId, msg: ClientRequestMessage, out: Out[]): void {
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
    if (!this.live) {
      const result = this.notPrimary();
      out.push({
        type: "reply",
        client,
        msg:
          msg.type === "request"
            ? { type: "reply", client, seq: msg.seq, result }
            : { type: "queryReply", client, qid: msg.qid, result },
        after: 0,
      });
      return;
    }
    if (msg.type === "query") {
      if (this.pairedWith === undefined) {
        // Alone in its epoch, nobody else may take over (no other replica is eligible).
        out.push({ type: "query", client, qid: msg.qid, q: msg.q, atIndex: this.commit });
      } else {
        // The backup could have taken over: answer once it confirms this epoch after now.
        this.round++;
        this.heldQueries.push({ client, qid: msg.qid, q: msg.q, round: this.round });
        this.sendTo(this.pairedWith, out);
      }
      return;
    }
    const key = `${client}#${msg.seq}`;
    if (this.awaiting.has(key)) return; // logged already; answered when it commits
    const busy = this.busyReason();
    if (busy !== undefined) {
      this.replyCommand(client, msg.seq, { ok: false, error: "busy", message: busy }, out);
      return;
    }
    this.awaiting.add(key);
    this.batch.push({ client, seq: msg.seq, ackedBelow: msg.ackedBelow, cmd: msg.cmd });
    if (this.batch.length >= this.settings.maxBatchCommands) this.flushBatch(out);
  }

  /** Why the primary takes no new command now (bounded memory and bounded backup lag). */
  private busyReason(): string | undefined {
    if (this.awaiting.size >= this.settings.maxPending) return "too many commands in flight";
    const paired = this.pairedWith === undefined ? undefined : this.progress.get(this.pairedWith);
    if (paired && this.log.lastIndex - paired.match >= this.settings.maxBackupLag)
      return `the backup is ${this.log.lastIndex - paired.match} entries behind`;
    return undefined;
  }

  /** Logs the commands received in this step as one entry and ships it. */
  private flushBatch(out: Out[]): void {
    if (this.batch.length === 0 || !this.live) return;
    const entry: LogEntry = {
      index: this.log.lastIndex + 1,
      term: this.epoch,
      time: this.stampTime(),
      seed: this.random.u32(),
      payload: { type: "commands", commands: this.batch },
    };
    this.batch = [];
    this.log.append(entry);
    this.persist(out, [{ type: "append", entries: [entry] }], entry.index);
    for (const [r, p] of this.progress) if (p.next === entry.index) this.sendTo(r, out);
  }

  // ---- primary: shipping the log -----------------------------------------------------------

  private sendTo(r: ReplicaId, out: Out[]): void {
    const p = this.progress.get(r);
    if (!p) return;
    if (p.next <= this.log.snapIndex) {
      this.sendSnapshot(r, p, out);
      return;
    }
    const prevIndex = p.next - 1;
    const to = Math.min(this.log.lastIndex, p.next + this.settings.maxEntriesPerMessage - 1);
    const entries = p.next <= to ? this.log.slice(p.next, to) : [];
    const msg: AppendMessage = {
      type: "append",
      epoch: this.epoch,
      prevIndex,
      prevEpoch: this.log.epochAt(prevIndex)!,
      entries,
      commit: this.commit,
      paired: this.pairedWith === r,
      round: this.round,
    };
    out.push({ type: "send", to: r, msg, after: 0 });
    p.next += entries.length;
  }

  private sendSnapshot(r: ReplicaId, p: Progress, out: Out[]): void {
    const snap = this.snapshot;
    if (!snap || snap.index !== this.log.snapIndex) return;
    // Resend only after the previous copy had time to be acknowledged.
    if (this.ticks - p.snapshotSentTick < this.settings.failTicks / 2) return;
    p.snapshotSentTick = this.ticks;
    const msg: SnapshotMessage = {
      type: "snapshot",
      epoch: this.epoch,
      index: snap.index,
      snapEpoch: snap.epoch,
      time: snap.time,
      data: snap.data,
      round: this.round,
    };
    out.push({ type: "send", to: r, msg, after: 0 });
  }

  private onAck(from: ReplicaId, msg: AckMessage, out: Out[]): void {
    if (msg.epoch > this.epoch) {
      if (this.eligible && msg.epoch === this.asked && msg.epoch === this.epoch + 1) {
        // We asked for that epoch and may have won it in an earlier incarnation whose record
        // of it was lost: ask again to learn the winner (if it is us, nobody else may take
        // over, so dropping out now would leave the epoch without a primary for good).
        if (!this.campaign) this.startCampaign(out);
        return;
      }
      this.adoptEpoch(msg.epoch, undefined, out);
      return;
    }
    if (!this.live || msg.epoch < this.epoch) return;
    const p = this.progress.get(from);
    if (!p) return;
    p.lastAckTick = this.ticks;
    if (!msg.ok) {
      // Its log ends before, or disagrees at, the entry we built on: resume where it surely
      // agrees (its committed prefix is final), or right after its end.
      p.next = msg.last < msg.index ? msg.last + 1 : msg.commit + 1;
      p.next = Math.max(1, Math.min(p.next, this.log.lastIndex + 1));
      this.sendTo(from, out);
      return;
    }
    if (msg.index > p.match) p.match = Math.min(msg.index, this.log.lastIndex);
    if (p.next <= p.match) p.next = p.match + 1;
    if (this.pairedWith === undefined && p.match >= this.log.lastIndex) {
      // In sync: from now on every output waits for this backup, which may take over.
      this.pairedWith = from;
    }
    if (from === this.pairedWith && msg.round > p.round) {
      p.round = msg.round;
      this.releaseQueries(p.round, out);
    }
    this.advanceCommit(out);
    if (p.next <= this.log.lastIndex) this.sendTo(from, out);
  }

  private releaseQueries(confirmed: number, out: Out[]): void {
    const kept: HeldQuery[] = [];
    for (const q of this.heldQueries) {
      if (q.round <= confirmed)
        out.push({ type: "query", client: q.client, qid: q.qid, q: q.q, atIndex: this.commit });
      else kept.push(q);
    }
    this.heldQueries = kept;
  }

  // ---- backup: following the primary ------------------------------------------------------

  private onFromPrimary(from: ReplicaId, msg: AppendMessage | SnapshotMessage, out: Out[]): void {
    if (msg.epoch < this.epoch && this.bug !== "old-epoch-accepted") {
      // Refused; the ack's newer epoch tells the old primary it is deposed.
      this.sendAck(from, { ok: false, index: 0 }, 0, msg.round, out);
      return;
    }
    this.ackEpoch = msg.epoch;
    if (msg.epoch > this.epoch) {
      this.adoptEpoch(msg.epoch, from, out);
    } else if (this.live || this.primary === this.id) {
      if (msg.epoch === this.epoch) return; // two primaries in one epoch: cannot happen, ignored
      // old-epoch-accepted: the stale primary's entries win over our own epoch's.
      this.live = false;
      this.awaiting.clear();
      this.progress.clear();
      this.pairedWith = undefined;
    }
    if (this.primary === undefined || msg.epoch < this.epoch) this.primary = from;
    this.heardTick = this.ticks;
    if (msg.type === "append") this.onAppend(from, msg, out);
    else this.onSnapshot(from, msg, out);
  }

  private onAppend(from: ReplicaId, msg: AppendMessage, out: Out[]): void {
    const log = this.log;
    const matches =
      msg.prevIndex <= log.lastIndex &&
      (msg.prevIndex < log.snapIndex || log.epochAt(msg.prevIndex) === msg.prevEpoch);
    const matched = msg.prevIndex + msg.entries.length;
    if (!matches) {
      if (this.bug === "ack-before-receipt")
        this.sendAck(from, { ok: true, index: matched }, 0, msg.round, out);
      else this.sendAck(from, { ok: false, index: msg.prevIndex }, 0, msg.round, out);
      return;
    }
    const ops: PersistOp[] = [];
    const added: LogEntry[] = [];
    for (const e of msg.entries) {
      if (e.index <= log.snapIndex) continue;
      const existing = log.at(e.index);
      if (existing && added.length === 0) {
        if (existing.term === e.term) continue;
        if (e.index <= this.commit)
          throw new Error(
            `primary-backup: entry ${e.index} of epoch ${existing.term} is committed, the primary sent epoch ${e.term}`,
          );
        log.truncateFrom(e.index);
        this.truncated(e.index);
        ops.push({ type: "truncate", from: e.index });
      }
      const kept =
        this.bug === "recompute-nondeterminism-on-backup"
          ? { ...e, time: Math.max(this.now, log.lastTime), seed: this.random.u32() }
          : e;
      log.append(kept);
      added.push(kept);
    }
    if (added.length > 0) ops.push({ type: "append", entries: added });
    if (ops.length > 0) this.persist(out, ops, log.lastIndex);
    if (msg.paired && !this.eligible && msg.epoch === this.epoch) {
      // The primary counts us as in sync: we hold every output of this epoch and may take over.
      this.eligible = true;
      this.persistHardState(out);
    }
    this.sendAck(from, { ok: true, index: matched }, this.ackAfter(), msg.round, out);
    const target = Math.min(msg.commit, matched);
    if (target > this.commit) this.commitTo(target, out);
  }

  private onSnapshot(from: ReplicaId, msg: SnapshotMessage, out: Out[]): void {
    if (msg.index > this.commit) {
      const log = this.log;
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
        this.truncated(msg.index + 1);
        ops.push({ type: "truncate", from: msg.index + 1 });
      }
      ops.push({ type: "snapshot", meta, data: msg.data });
      this.persist(out, ops, log.lastIndex);
      this.snapshot = { index: msg.index, epoch: msg.snapEpoch, time: msg.time, data: msg.data };
      this.commit = msg.index;
      this.appliedTo = msg.index;
      if (this.bug !== "new-backup-wrong-start")
        out.push({ type: "installSnapshot", meta, data: msg.data });
    }
    this.sendAck(from, { ok: true, index: msg.index }, this.ackAfter(), msg.round, out);
  }

  /** The persist an ack waits for: none on receipt, the newest log write in durable mode. */
  private ackAfter(): number {
    return this.settings.ackOn === "durable" ? this.logPersistId : 0;
  }

  private sendAck(
    to: ReplicaId,
    verdict: { ok: boolean; index: LogIndex },
    after: number,
    round: number,
    out: Out[],
  ): void {
    const msg: AckMessage = {
      type: "ack",
      epoch: this.bug === "old-epoch-accepted" ? this.ackEpoch : this.epoch,
      ok: verdict.ok,
      index: verdict.index,
      last: this.log.lastIndex,
      commit: this.commit,
      round,
    };
    out.push({ type: "send", to, msg, after });
  }
}

/** Entries follow prevIndex without gaps, and none is from an epoch after the sender's. */
function wellFormedAppend(msg: AppendMessage): boolean {
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
