import { AccessWaiters } from "../../core/access-waiters.js";
import type { ClientReplyMessage } from "../../core/client-messages.js";
import type { ClientId, LogIndex, ReplicaId, Term } from "../../core/ids.js";
import type { Random } from "../../core/prng.js";
import type { CoreOutput, PersistOp, SnapshotMeta } from "../../core/protocol.js";
import { AdminWaiters } from "./confchange.js";
import type { RaftLog } from "./log.js";
import { type ConfigHistory, isMember, isVoter } from "./membership.js";
import type { RaftMessage, RaftWire } from "./messages.js";
import type { Progress } from "./progress.js";
import { Proposals } from "./proposals.js";
import { ReadOnly } from "./read-only.js";
import type { RaftSettings } from "./settings.js";
import {
  invariant,
  type Membership,
  type RaftHardState,
  type RaftPlantedBug,
  type RaftRole,
} from "./types.js";

export interface TransferState {
  readonly to: ReplicaId;
  elapsed: number;
  timeoutSent: boolean;
  /** Bounded by limits.raftMaxTransferWaiters. */
  readonly waiters: { client: ClientId; aid: number }[];
}

export interface IncomingSnapshot {
  readonly index: LogIndex;
  readonly term: Term;
  /** Declared size; never allocated up front (see snapshot.ts). */
  readonly total: number;
  /** What arrived, in order; at most limits.raftMaxSnapshotPieces pieces. */
  chunks: Uint8Array[];
  received: number;
}

/**
 * The whole state of one Raft replica and the primitives every rule uses (emitting outputs,
 * persisting, committing). The rules live in the modules that import this one; raft.ts is the
 * orchestrator that steps inputs and changes roles, and nothing here calls back into it.
 */
export class RaftNode {
  // ---- durable (mirrored in persist ops)
  term: Term = 0;
  vote: ReplicaId | null = null;
  /** The latest snapshot (taken or installed), kept to send to lagging followers. */
  snapshot: { meta: SnapshotMeta; data: Uint8Array } | undefined;
  /** Time of the entry at the snapshot's index. */
  snapshotTime = 0;

  // ---- volatile
  role: RaftRole = "follower";
  leader: ReplicaId | undefined;
  /** The leader this replica knows for its current term: never two in one term. */
  private knownLeader: { term: Term; id: ReplicaId } | undefined;
  commitIndex: LogIndex = 0;
  /** Highest index handed to the driver in an `apply` output. */
  appliedRequested: LogIndex = 0;
  /** Highest index the driver reported applied. */
  applied: LogIndex = 0;
  /** The wall clock of the last tick (ms), for entry times only. */
  now = 0;
  /**
   * The driver's monotonic clock (ms) as of the latest input that carried it (ticks and client
   * messages), for leases: heartbeat rounds are stamped with it when they are sent.
   */
  mono = 0;
  /** Largest entry time seen, so entry times never decrease. */
  lastEntryTime = 0;
  ticksSinceStart = 0;

  // ---- timers
  electionElapsed = 0;
  randomizedElectionTimeout: number;
  heartbeatElapsed = 0;
  checkQuorumElapsed = 0;

  // ---- persistence
  private nextPersistId = 1;
  persistedUpTo = 0;
  private pendingOps: PersistOp[] = [];
  /** Issued persists and the last log index each one made durable. */
  durableQueue: { id: number; lastIndex: LogIndex }[] = [];
  /** The log is durable up to here (for the leader counting itself toward commit). */
  durableIndex: LogIndex = 0;

  // ---- elections
  votes = new Map<ReplicaId, boolean>();
  /** Persist id that holds this candidate's vote for itself. */
  selfVotePersistId = 0;

  // ---- leader
  progress = new Map<ReplicaId, Progress>();
  /** Index of the noop this leader appended when elected: its first entry of the term. */
  termStartIndex: LogIndex = 0;
  /** The last term this replica led (used only by a planted bug). */
  ledTerm: Term = -1;
  round = 0;
  readonly readOnly = new ReadOnly();
  transfer: TransferState | undefined;
  /**
   * Ticks during which lease reads are off: a transfer target campaigns past the voters'
   * stickiness, and may still win for a while after the transfer was given up.
   */
  leaseBlockedTicks = 0;

  // ---- follower
  incoming: IncomingSnapshot | undefined;
  /** InstallSnapshot chunks refused because the declared total is above limits.raftMaxSnapshotBytes. */
  refusedSnapshotChunks = 0;

  // ---- snapshots
  /** Index of a takeSnapshot output not yet answered. */
  snapshotRequested: LogIndex | undefined;

  // ---- clients
  readonly proposals: Proposals;
  readonly adminWaiters = new AdminWaiters();
  /** Access changes (role, revoke, rotate) this replica logged and answers when applied. */
  readonly accessWaiters = new AccessWaiters();

  private out: CoreOutput<RaftWire>[] = [];

  constructor(
    readonly id: ReplicaId,
    readonly settings: RaftSettings,
    readonly bug: RaftPlantedBug | undefined,
    readonly random: Random,
    readonly replicaCount: number,
    readonly tickMs: number,
    readonly log: RaftLog,
    readonly configs: ConfigHistory,
  ) {
    this.randomizedElectionTimeout = this.drawElectionTimeout();
    this.proposals = new Proposals(settings.maxPendingRequests);
  }

  // ---------------------------------------------------------------- derived state

  get membership(): Membership {
    return this.configs.latest;
  }

  get isVoter(): boolean {
    return isVoter(this.configs.latest, this.id);
  }

  get isLeader(): boolean {
    return this.role === "leader";
  }

  /** The leader has committed an entry of its own term (needed before reads and config changes). */
  get committedInTerm(): boolean {
    return this.role === "leader" && this.commitIndex >= this.termStartIndex;
  }

  // ---------------------------------------------------------------- outputs

  /** Starts collecting the outputs of one step. */
  begin(): void {
    this.out = [];
  }

  /** Ends a step: pending persist ops go out, and the step's outputs are returned. */
  end(): CoreOutput<RaftWire>[] {
    this.flush();
    const out = this.out;
    this.out = [];
    return out;
  }

  emit(output: CoreOutput<RaftWire>): void {
    this.out.push(output);
  }

  send(to: ReplicaId, msg: RaftMessage, after = 0): void {
    invariant(to !== this.id, () => `replica ${this.id} sending to itself`);
    this.out.push({ type: "send", to, msg, after });
  }

  reply(client: ClientId, msg: ClientReplyMessage, after = 0): void {
    this.out.push({ type: "reply", client, msg, after });
  }

  /**
   * The answer of a replica that cannot order requests, with a leader hint when it has a fresh
   * one. A replica outside its own membership (removed) gives none: what it knows is stale, and
   * two stale replicas pointing at each other would bounce a client between them.
   */
  notLeader(): { ok: false; error: "not-leader"; leader?: ReplicaId } {
    if (!isMember(this.configs.latest, this.id)) return { ok: false, error: "not-leader" };
    if (this.leader === undefined || this.leader === this.id)
      return { ok: false, error: "not-leader" };
    return { ok: false, error: "not-leader", leader: this.leader };
  }

  // ---------------------------------------------------------------- persistence

  /** Queues a durable op; it goes out in one persist output at the next flush. */
  persist(op: PersistOp): void {
    if (op.type === "hardState") {
      const at = this.pendingOps.findIndex((o) => o.type === "hardState");
      if (at >= 0) {
        this.pendingOps[at] = op;
        return;
      }
    }
    this.pendingOps.push(op);
  }

  persistHardState(): void {
    const state: RaftHardState =
      this.snapshot === undefined
        ? { term: this.term, vote: this.vote }
        : { term: this.term, vote: this.vote, snapshotTime: this.snapshotTime };
    this.persist({ type: "hardState", state });
  }

  /** Emits the queued ops as one persist output; returns the id of the last persist issued. */
  flush(): number {
    if (this.pendingOps.length > 0) {
      const id = this.nextPersistId++;
      this.out.push({ type: "persist", id, ops: this.pendingOps });
      this.pendingOps = [];
      this.durableQueue.push({ id, lastIndex: this.log.lastIndex });
    }
    return this.nextPersistId - 1;
  }

  /** The `after` for a message that needs everything persisted so far to be durable. */
  durableAfter(): number {
    const id = this.flush();
    return id > this.persistedUpTo ? id : 0;
  }

  onPersisted(upTo: number): void {
    invariant(
      upTo < this.nextPersistId,
      () => `persisted ${upTo} acknowledged but only ${this.nextPersistId - 1} were issued`,
    );
    if (upTo <= this.persistedUpTo) return;
    this.persistedUpTo = upTo;
    while (this.durableQueue.length > 0 && this.durableQueue[0]!.id <= upTo) {
      const done = this.durableQueue.shift()!;
      this.durableIndex = Math.max(this.durableIndex, done.lastIndex);
    }
  }

  /** The log from `from` on is being replaced: what is durable of the current log shrinks. */
  onLogTruncated(from: LogIndex): void {
    this.durableIndex = Math.min(this.durableIndex, from - 1);
    for (const item of this.durableQueue) item.lastIndex = Math.min(item.lastIndex, from - 1);
  }

  // ---------------------------------------------------------------- timers and leaders

  drawElectionTimeout(): number {
    const base = this.settings.electionTicks;
    return base + this.random.int(base);
  }

  resetElectionTimer(): void {
    this.electionElapsed = 0;
    this.randomizedElectionTimeout = this.drawElectionTimeout();
  }

  /** Records the leader of the current term; one node never sees two leaders in a term. */
  setLeader(leader: ReplicaId): void {
    const known = this.knownLeader;
    invariant(
      known === undefined || known.term !== this.term || known.id === leader,
      () => `replica ${this.id} saw two leaders in term ${this.term}: ${known?.id} and ${leader}`,
    );
    this.knownLeader = { term: this.term, id: leader };
    this.leader = leader;
  }

  /**
   * Leader stickiness (dissertation 4.2.3, etcd's "in lease"): with check-quorum, a replica that
   * heard from a leader within the minimum election timeout ignores requests to elect another.
   * With lease reads a freshly started replica also waits one election timeout first, since it
   * cannot know whether it recently promised a leader not to.
   */
  inLease(): boolean {
    if (!this.settings.checkQuorum) return false;
    if (this.role === "leader") return true;
    if (this.leader !== undefined && this.electionElapsed < this.settings.electionTicks)
      return true;
    return this.settings.leaseReads && this.ticksSinceStart < this.settings.electionTicks;
  }

  // ---------------------------------------------------------------- commit and apply

  setCommit(index: LogIndex): void {
    invariant(
      index >= this.commitIndex,
      () => `commit index would decrease from ${this.commitIndex} to ${index}`,
    );
    invariant(
      index <= this.log.lastIndex,
      () => `commit index ${index} beyond last index ${this.log.lastIndex}`,
    );
    this.commitIndex = index;
  }

  /** Hands newly committed entries to the driver. */
  applyCommitted(): void {
    let limit = this.commitIndex;
    // PLANTED BUG apply-before-commit: apply whatever is in the log, committed or not.
    if (this.bug === "apply-before-commit") limit = this.log.lastIndex;
    if (limit <= this.appliedRequested) return;
    const entries = this.log.slice(this.appliedRequested + 1, limit);
    this.appliedRequested = limit;
    this.out.push({ type: "apply", entries });
  }
}
