import { AccessWaiters } from "../../core/access-waiters.js";
import type { ClientId, LogIndex, ReplicaId } from "../../core/ids.js";
import type { LoggedCommand } from "../../core/log-entry.js";
import type { Random } from "../../core/prng.js";
import type { CoreOutput, PersistOp, ReplicaOptions } from "../../core/protocol.js";
import { hardStateValue, parseHardState } from "./hard-state.js";
import { PbLog } from "./log.js";
import type { Epoch, PrimaryBackupWire } from "./messages.js";
import type { PrimaryBackupPlantedBug } from "./planted-bugs.js";
import { type PrimaryBackupSettings, parsePrimaryBackupSettings } from "./settings.js";
import { snapshotEpoch } from "./snapshot-meta.js";

export type Out = CoreOutput<PrimaryBackupWire>;

/** Roles a primary/backup replica reports (StatusDeclaration.roles). */
export const primaryBackupRoles = ["primary", "backup", "recovering", "campaigning"] as const;
export type PrimaryBackupRole = (typeof primaryBackupRoles)[number];

/** What a live primary knows of another replica's copy of its log. */
export interface Progress {
  /** Next index to send. */
  next: LogIndex;
  /** Highest index the replica acknowledged holding (in this epoch). */
  match: LogIndex;
  lastAckTick: number;
  /** Highest read-confirmation round it echoed. */
  round: number;
  snapshotSentTick: number;
}

export interface Campaign {
  readonly epoch: Epoch;
  askId: number | undefined;
  askedTick: number;
  retryAt: number;
}

export interface HeldQuery {
  readonly client: ClientId;
  readonly qid: number;
  readonly q: import("../../core/value.js").Value;
  readonly round: number;
}

/**
 * The state of one primary/backup replica, shared by the modules that act on it (campaign,
 * shipping, primary, backup, snapshots, invariants), with the few helpers all of them use.
 */
export class PbNode {
  readonly id: ReplicaId;
  readonly settings: PrimaryBackupSettings;
  readonly random: Random;
  readonly others: readonly ReplicaId[];

  // Hard state.
  epoch: Epoch;
  eligible: boolean;
  asked: Epoch;
  /** `asked` as this incarnation found it on disk. */
  readonly askedBefore: Epoch;

  primary: ReplicaId | undefined;
  live = false;
  readonly log: PbLog;
  commit: LogIndex;
  /** Highest index sent to the service in an apply output (always the commit index). */
  appliedTo: LogIndex;
  snapshot: { index: LogIndex; epoch: Epoch; time: number; data: Uint8Array } | undefined;
  snapshotInFlight = false;

  ticks = 0;
  now = 0;
  /** Last tick with traffic from the primary of this epoch (backup side). */
  heardTick = 0;
  /** Spreads the first campaigns of replicas that start together. */
  readonly jitter: number;

  nextPersistId = 1;
  durableId = 0;
  /** Id of the newest persist that wrote the log (an ack in durable mode waits for it). */
  logPersistId = 0;
  /** Every entry ≤ this is durable in this replica's log. */
  durableIndex: LogIndex;
  readonly logWrites: { id: number; upTo: LogIndex }[] = [];

  // Live primary.
  readonly progress = new Map<ReplicaId, Progress>();
  pairedWith: ReplicaId | undefined;
  readonly awaiting = new Set<string>();
  /** Access changes this replica logged and answers once applied (core/access-waiters.ts). */
  readonly accessWaiters = new AccessWaiters();
  batch: LoggedCommand[] = [];
  round = 0;
  heldQueries: HeldQuery[] = [];
  lastBeat = 0;

  campaign: Campaign | undefined;
  nextExternalId = 1;
  /** Peer messages dropped as malformed or from outside the configuration. */
  dropped = 0;
  /** Why this replica is not primary, when it lost a test-and-set (reported in status). */
  lastLoss: string | undefined;

  /**
   * Highest epoch a client request carried in this incarnation (clients send the highest epoch
   * they saw in a reply). A live primary must never be older than it: it is deposed.
   */
  clientEpoch: Epoch = 0;
  /** Client requests refused because they came from a newer epoch than this replica's. */
  clientEpochRefusals = 0;

  /** Epoch of the primary message being answered (the old-epoch-accepted bug acks in it). */
  ackEpoch: Epoch = 0;

  /** What assertInvariants saw last (it checks that they only grow). */
  checkedCommit = 0;
  checkedEpoch = 0;

  constructor(
    options: ReplicaOptions,
    readonly bug: PrimaryBackupPlantedBug | undefined,
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

  get role(): PrimaryBackupRole {
    if (this.live) return "primary";
    if (this.campaign) return "campaigning";
    if (this.eligible && this.primary !== undefined && this.epoch > 0) return "backup";
    return "recovering";
  }

  /** Emits a persist output; `logUpTo` says it writes the log up to that index. */
  persist(out: Out[], ops: readonly PersistOp[], logUpTo?: LogIndex): number {
    const id = this.nextPersistId++;
    out.push({ type: "persist", id, ops });
    if (logUpTo !== undefined) {
      this.logPersistId = id;
      this.logWrites.push({ id, upTo: logUpTo });
    }
    return id;
  }

  persistHardState(out: Out[]): number {
    return this.persist(out, [
      {
        type: "hardState",
        state: hardStateValue({ epoch: this.epoch, eligible: this.eligible, asked: this.asked }),
      },
    ]);
  }

  /** The log lost every entry ≥ from: what was durable there no longer counts. */
  truncated(from: LogIndex): void {
    this.durableIndex = Math.min(this.durableIndex, from - 1);
    for (const w of this.logWrites) w.upTo = Math.min(w.upTo, from - 1);
  }

  commitTo(index: LogIndex, out: Out[]): void {
    if (index < this.commit)
      throw new Error(`primary-backup: commit would go back from ${this.commit} to ${index}`);
    if (index === this.commit) return;
    this.commit = index;
    const entries = this.log.slice(this.appliedTo + 1, index);
    this.appliedTo = index;
    out.push({ type: "apply", entries });
  }

  stampTime(): number {
    return Math.max(this.log.lastTime, this.now);
  }
}
