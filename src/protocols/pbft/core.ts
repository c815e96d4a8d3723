import {
  type AccessEntry,
  accessPayload,
  allows,
  type ClientAccess,
  forbidden,
} from "../../core/access.js";
import { authorizationPayload } from "../../core/admin-authorization.js";
import { type Crypto, equalBytes, replicaPrincipal, toHex } from "../../core/crypto.js";
import type { ClientId, ReplicaId } from "../../core/ids.js";
import type { LogEntry, LoggedCommand } from "../../core/log-entry.js";
import type {
  CoreInput,
  CoreOutput,
  CoreStatus,
  PersistOp,
  ProtocolCore,
  ReplicaOptions,
  SnapshotMeta,
} from "../../core/protocol.js";
import type { AppliedAdmin, AppliedCommand } from "../../core/replicated-service.js";
import { snapshotPosition } from "../../core/replicated-service.js";
import type { Value } from "../../core/value.js";
import {
  makeCommit,
  makeFetch,
  makeFetchRequests,
  makeReply,
  makeStateChunk,
  signCheckpoint,
  signPrePrepare,
  signPrepare,
  verifyCheckpoint,
  verifyCommit,
  verifyFetch,
  verifyFetchRequests,
  verifyPrePrepare,
  verifyPrepare,
  verifyRequest,
  verifyRequestAt,
  verifyStateChunk,
} from "./authenticator.js";
import { Batcher } from "./batcher.js";
import { checkpointData, splitCheckpointData } from "./checkpoint-state.js";
import { CheckpointCollector, genesisCheckpoint, verifyCheckpointProof } from "./checkpoints.js";
import {
  countBatch,
  emptyPbftCounters,
  type PbftCounters,
  type PbftRejectionKind,
  slotRejection,
  VerifyingCrypto,
} from "./counters.js";
import {
  certKey,
  certPut,
  hardStateOp,
  readCertificates,
  readHardState,
  readProof,
  snapshotMeta,
} from "./durable.js";
import {
  applyChange,
  initialMembership,
  type MembershipOp,
  type MembershipRecord,
  membershipValue,
  readMembership,
  settle,
} from "./membership.js";
import type {
  Batch,
  Checkpoint,
  CheckpointProof,
  Commit,
  Digest,
  Fetch,
  FetchRequests,
  NewView,
  PbftReplicaMessage,
  PrePrepare,
  Prepare,
  Reply,
  Request,
  StateChunk,
  ViewChange,
} from "./messages.js";
import { checkProposedTime, proposeTime, seedFor } from "./nondeterminism.js";
import type { PbftPlantedBug } from "./planted-bugs.js";
import { membersOf, primaryOf, type Quorums, quorumsForMembers } from "./quorum.js";
import { RequestStore } from "./requests.js";
import { type PbftSettings, parsePbftSettings } from "./settings.js";
import { batchDigest, nullBatch, requestBytes, requestDigest } from "./signed-bytes.js";
import { SlotLog, type SlotStep } from "./slot-log.js";
import { StateTree, stateDigest } from "./state-digest.js";
import { StateFetch } from "./state-transfer.js";
import { AppliedMarks, RollbackPoint, type TentativeSlot } from "./tentative.js";
import {
  buildNewView,
  buildViewChange,
  type NewViewPlan,
  planNewView,
  type ViewChangeParams,
  verifyNewView,
  verifyPreparedCertificate,
  verifyViewChange,
  viewChangeTimeout,
  viewToJoin,
} from "./view-change.js";
import { WaitingRequests } from "./waiting-requests.js";
import { isMembershipChange, type PbftWire, parseOp } from "./wire.js";

type Out = CoreOutput<PbftWire>;

/** Why the core dropped a message: counters for metrics and the simulator's stats. */
export interface PbftDrops {
  auth: number;
  malformed: number;
  refused: number;
  timeRefused: number;
  busy: number;
}

/** Why view changes started here (status details; the simulator's liveness report). */
export interface PbftViewChangeCauses {
  requestTimer: number;
  viewChangeTimer: number;
  joined: number;
  badProposal: number;
  /** A membership change took effect: the new members start a view of their own. */
  membership: number;
}

/** The snapshot of a checkpoint this replica can serve for state transfer. */
interface Served {
  readonly seq: number;
  readonly digest: Digest;
  readonly tree: StateTree;
  /** What the digest covers: the service snapshot, with the membership if not the configured one. */
  readonly data: Uint8Array;
  /** The service snapshot alone (what the driver restores). */
  readonly service: Uint8Array;
  /** The membership the state holds. */
  readonly membership: MembershipRecord;
  readonly time: number;
}

/** The answer to an access change a faulty primary batched with other requests. */
const mixedAccessChange: Value = {
  ok: false,
  error: "busy",
  message: "an access change must be ordered alone; ask again",
};

/**
 * A PBFT replica (Castro & Liskov, OSDI'99; TOCS 2002) as a sans-IO core on lockstep's
 * contract. It orders client requests in three phases, executes them in sequence-number order
 * through the contract's `apply` output, checkpoints every K sequence numbers, changes view when
 * the primary is faulty or slow, and fetches state it is missing. The leaf modules hold the rules
 * (slot-log, checkpoints, view-change, authenticator); this file wires them to inputs and outputs.
 */
export class PbftCore implements ProtocolCore<PbftWire> {
  readonly id: ReplicaId;
  readonly drops: PbftDrops = { auth: 0, malformed: 0, refused: 0, timeRefused: 0, busy: 0 };
  readonly viewChangeCauses: PbftViewChangeCauses = {
    requestTimer: 0,
    viewChangeTimer: 0,
    joined: 0,
    badProposal: 0,
    membership: 0,
  };
  /** Metrics: crypto work, batches, checkpoints, view changes, rejections by kind (counters.ts). */
  readonly counters: PbftCounters = emptyPbftCounters();
  /** The address book's size (MAC authenticators have an entry for every replica in it). */
  private readonly n: number;
  /** Quorums of the members in effect: f and the primaries derive from them. */
  private q: Quorums;
  /**
   * Outside the membership in effect: this replica takes no part. It only listens for the
   * checkpoints and state that would make it a member (it was added), see onSpare.
   */
  private spare: boolean;
  /** The membership as of the last executed seq: replicated state, in every checkpoint. */
  private membership: MembershipRecord;
  /** The membership each own checkpoint's state holds, by seq (until its snapshot is taken). */
  private readonly membershipAt = new Map<number, MembershipRecord>();
  /**
   * A membership change executed at `seq` whose authorization (the asker's admin role, checked by
   * the service at that index) is not back yet: execution waits for it, so the membership as of
   * every later seq includes it.
   */
  private authorizing:
    | {
        readonly seq: number;
        readonly client: ClientId;
        readonly aid: number;
        readonly op: MembershipOp;
      }
    | undefined;
  /** The stable proofs of the membership boundaries passed, latest last (sent to laggards). */
  private readonly boundaryProofs: CheckpointProof[] = [];
  /** The states at those boundaries (served to replicas that must cross them), latest last. */
  private readonly boundaryServed: Served[] = [];
  private readonly settings: PbftSettings;
  private readonly crypto: Crypto;
  private params: ViewChangeParams;
  private slotQuorums: Quorums;

  private view = 0;
  private slots: SlotLog;
  private checkpoints: CheckpointCollector;
  private readonly requests: RequestStore;
  private batcher: Batcher<{ request: Request; digest: Digest }>;
  private ticks = 0;
  /** The tick of the last execution: the request timer restarts from it (§4.4). */
  private lastExecutedTick = 0;
  /** When this replica entered its current view: timers of progress count from there at the earliest. */
  private viewEnteredTick = 0;
  private clock = 0;
  private nextPersistId = 1;
  /**
   * Every message waits for this persist: the latest hard-state (view) write. A replica that
   * said anything in a view has that view on disk, so after a crash it never votes in it again.
   */
  private bootId = 0;
  private booted = false;
  /**
   * The view a restarted replica abstains in. It may have voted there before the crash and
   * forgotten how, so it sends no PRE-PREPARE and no PREPARE in that view: it can never vote for
   * two digests at one (view, seq). It still commits what 2f other backups prepared (a digest
   * prepared by 2f+1 replicas is the only one that can be), executes and checkpoints, so it
   * rejoins the group at once instead of waiting alone for the next view; from the next view on
   * it votes normally.
   */
  private readonly abstainIn: number | undefined;

  /** Primary: the next sequence number to assign. */
  private nextSeq = 1;
  private lastExecuted = 0;
  /** The agreed time of the last executed batch with requests (the floor for proposals). */
  private lastTime = 0;
  /** Primary: the time of its last proposal (proposals never go back). */
  private proposedTime = 0;
  /** Primary: requests in a batch it proposed and that has not executed (never proposed twice). */
  private readonly proposed = new Set<string>();
  /** This replica's own normal-case messages per seq, for retransmission. */
  private readonly own = new Map<
    number,
    { prePrepare?: PrePrepare; prepare?: Prepare; commit?: Commit }
  >();
  /** Own COMMITs waiting for the certificate they depend on to be durable. */
  private readonly commitsAwaitingPersist: { id: number; commit: Commit }[] = [];
  /** Pre-prepares accepted in principle whose request bodies are still being fetched. */
  private readonly awaitingBodies = new Map<number, { pp: PrePrepare; digest: Digest }>();
  /** Ordered requests this replica holds and has not executed (backup timers; new primary's queue). */
  private readonly waiting = new WaitingRequests();
  private lastFetchRequestsAt = -1_000_000;
  /** When helpStraggler last answered each replica. */
  private readonly helped = new Map<ReplicaId, number>();
  /** Per replica, the highest checkpoint seq it sent us itself (see sendProofToLaggards). */
  private readonly checkpointedUpTo = new Map<ReplicaId, number>();
  private readonly proofSentAt = new Map<ReplicaId, number>();
  /** Per replica, the highest seq the last retransmission round resent to it (see retransmit). */
  private readonly resentUpTo = new Map<ReplicaId, number>();

  /** View change in progress: the view asked for and when. */
  /**
   * View change in progress: the view asked for, its timeout, and when the timer started: only
   * once 2f+1 replicas asked for this view or a later one (§4.5.2), so a replica alone in asking
   * (one that restarted, say) waits for the others instead of running ahead through views alone.
   */
  private changing: { view: number; since: number | undefined; timeout: number } | undefined;
  private consecutiveViewChanges = 0;
  /** The latest valid VIEW-CHANGE from each replica (at most n held). */
  private readonly viewChanges = new Map<ReplicaId, ViewChange>();
  /** The NEW-VIEW that installed the current view (resent to replicas still asking for it). */
  private installedNewView: NewView | undefined;

  /** Own checkpoints not yet stable: snapshot data by seq. */
  private readonly pendingCheckpoints = new Map<number, Served>();
  private ownCheckpoint: Checkpoint | undefined;
  private served: Served | undefined;
  private fetch: StateFetch | undefined;
  private snapshotRequested = 0;
  /** Tick since which a stable checkpoint is above what this replica executed. */
  private behindSince: number | undefined;

  /** The last reply per client (PBFT's exactly-once cache; the session table is the durable one). */
  /**
   * Recent replies per client, by timestamp (PBFT's reply cache; the session table is the one
   * that makes requests exactly-once). A client may have many requests in flight, executed in
   * any order, so this is a small set per client rather than the paper's single last reply.
   */
  private readonly recentReplies = new Map<ClientId, Map<number, Value>>();
  /** Queries being run; `tentative`: the seq of the tentative batch an ordered one belongs to. */
  private readonly queries = new Map<
    number,
    { client: ClientId; timestamp: number; tentative?: number }
  >();
  private nextQid = 1;
  private readonly certSeqs = new Set<number>();
  /** The highest stable checkpoint counted in `counters.checkpointsStable`. */
  private countedStable = 0;
  /** The batch executed tentatively and not yet committed (tentative.ts), if any. */
  private tentative: TentativeSlot | undefined;
  /** The committed state a rollback of the tentative batch returns to. */
  private readonly rollbackPoint = new RollbackPoint();
  /** What each `applied` input answers, in the order of the `apply` outputs. */
  private readonly appliedMarks = new AppliedMarks();
  /** Read-only requests held while a batch is tentative: they must see committed state only. */
  private readonly heldReads: Request[] = [];
  /** The persist of each prepared certificate written in this incarnation, by seq. */
  private readonly certPersistIds = new Map<number, number>();
  /** Read-only requests wait for the state to cover what this replica may have forgotten. */
  private readOnlyBlocked: boolean;
  private readOnlyFloor = 0;

  // For assertInvariants: values that must only grow.
  private checkedExecuted = 0;
  private checkedView = 0;

  constructor(
    options: ReplicaOptions,
    private readonly bug?: PbftPlantedBug,
  ) {
    this.id = options.id;
    this.n = options.config.replicas.length;
    this.settings = parsePbftSettings(options.config.settings, this.n);
    this.crypto = new VerifyingCrypto(options.crypto, this.counters, replicaPrincipal(options.id));
    this.membership = initialMembership(this.settings.members ?? membersOf(this.n));
    const genesis = stateDigest(this.crypto, genesisBytes, this.settings.chunkBytes);
    const durable = options.durable;
    const hard = readHardState(durable.hardState);
    let stable = genesisCheckpoint(genesis);
    if (durable.snapshot) {
      stable = readProof(durable.snapshot.meta);
      const service = durable.snapshot.data;
      const config = durable.snapshot.meta.config;
      // Snapshots from before reconfiguration stored { n }: the configured membership.
      if (config !== null && typeof config === "object" && "epoch" in config) {
        this.membership = readMembership(config, this.n);
      }
      const data = checkpointData(this.membership, service);
      this.served = {
        seq: stable.seq,
        digest: stable.stateDigest,
        tree: new StateTree(this.crypto, data, this.settings.chunkBytes),
        data,
        service,
        membership: this.membership,
        time: durable.snapshot.meta.time ?? 0,
      };
      this.lastExecuted = stable.seq;
      this.lastTime = durable.snapshot.meta.time ?? 0;
      // What a tentative execution is rolled back to: the service's state at this checkpoint.
      this.rollbackPoint.setBase(durable.snapshot.meta, service);
      // Restarted at a boundary it had reached: the new members are in effect.
      this.membership = settle(this.membership, stable.seq);
    }
    this.q = quorumsForMembers(this.membership.members);
    this.spare = !this.q.members.includes(this.id);
    this.slotQuorums = this.q;
    this.params = {
      quorums: this.q,
      interval: this.settings.checkpointInterval,
      genesisDigest: genesis,
      windowSize: this.settings.windowSize,
    };
    this.checkpoints = new CheckpointCollector(this.params, 4, stable);
    this.configure(stable);
    this.view = hard?.view ?? 0;
    this.abstainIn = hard?.view;
    this.readOnlyBlocked = hard !== undefined;
    this.slots = new SlotLog(this.slotQuorums, this.settings.windowSize, {
      low: stable.seq,
      view: this.view,
    });
    if (this.membership.pending) this.slots.setCeiling(this.membership.pending.boundary);
    this.requests = new RequestStore(this.settings.maxQueued + this.settings.windowSize * 256);
    for (const { cert, requests } of readCertificates(durable, stable.seq)) {
      this.slots.restoreCertificate(cert);
      this.certSeqs.add(cert.prePrepare.seq);
      for (const r of requests) this.requests.add(requestDigest(this.crypto, r), r);
    }
    this.batcher = this.newBatcher();
    this.nextSeq = this.lastExecuted + 1;
  }

  // ---- membership (membership.ts; docs/protocols/pbft.md, Reconfiguration) ----------------

  /**
   * Quorums, checks and the checkpoint collector for the membership in effect, from the stable
   * checkpoint `stable` on: at start, and when a change takes effect at its boundary.
   */
  private configure(stable: CheckpointProof): void {
    const m = this.membership;
    const bug = this.bug;
    this.q = quorumsForMembers(m.members);
    this.spare = !this.q.members.includes(this.id);
    this.slotQuorums =
      bug === "prepared-with-too-few-prepares"
        ? { ...this.q, prepares: this.q.prepares - 1 }
        : bug === "committed-with-weak-quorum"
          ? { ...this.q, quorum: this.q.weak }
          : this.q;
    const checkpointQuorums =
      bug === "checkpoint-stable-with-weak-quorum" ? { ...this.q, quorum: this.q.weak } : this.q;
    this.params = {
      quorums: this.q,
      interval: this.settings.checkpointInterval,
      genesisDigest: this.params.genesisDigest,
      windowSize: this.settings.windowSize,
      ...(m.previous && m.since > 0
        ? { since: { seq: m.since, quorums: quorumsForMembers(m.previous) } }
        : {}),
      ...(m.pending ? { ceiling: m.pending.boundary } : {}),
    };
    this.checkpoints = new CheckpointCollector(
      { ...this.params, quorums: checkpointQuorums },
      4,
      stable,
    );
    if (m.pending) this.checkpoints.setCeiling(m.pending.boundary);
  }

  /** A change just executed (or installed with the state): nothing above its boundary is accepted. */
  private enforceBoundary(): void {
    const p = this.membership.pending;
    if (!p) return;
    this.slots.setCeiling(p.boundary);
    this.checkpoints.setCeiling(p.boundary);
    this.params = { ...this.params, ceiling: p.boundary };
  }

  /**
   * The change takes effect once this replica holds the state at its boundary and that
   * checkpoint is stable: every slot up to it is decided and in the state, so the new members
   * start from it with an empty window, in a view of their own (a view change, as after any
   * suspicion: VIEW-CHANGEs carrying the boundary's proof, NEW-VIEW from M'[v mod n']). No
   * NEW-VIEW ever spans the boundary: old members order nothing above it, new ones nothing
   * below it.
   */
  private maybeTakeEffect(out: Out[]): void {
    const p = this.membership.pending;
    const stable = this.checkpoints.stable;
    if (!p || stable.seq < p.boundary || this.lastExecuted < p.boundary) return;
    if (stable.seq !== p.boundary || this.slots.lowWaterMark !== p.boundary) return;
    if (this.served?.seq === stable.seq) {
      this.boundaryServed.push(this.served);
      if (this.boundaryServed.length > keptBoundaries) this.boundaryServed.shift();
    }
    this.boundaryProofs.push(stable);
    if (this.boundaryProofs.length > keptBoundaries) this.boundaryProofs.shift();
    this.membership = settle(this.membership, stable.seq);
    this.counters.membershipChanges++;
    this.reconfigure(stable, out);
  }

  /**
   * Starts over in the membership now in effect from the stable checkpoint `stable` (its state
   * held here): fresh slot log and collectors, nothing of the previous members' views kept. A
   * member then asks for a view of the new membership (VIEW-CHANGE with the checkpoint's proof);
   * it votes in no view before a NEW-VIEW installs one.
   */
  private reconfigure(stable: CheckpointProof, out: Out[]): void {
    this.configure(stable);
    this.slots = new SlotLog(this.slotQuorums, this.settings.windowSize, {
      low: stable.seq,
      view: this.view,
    });
    this.enforceBoundary();
    this.own.clear();
    this.proposed.clear();
    this.batcher = this.newBatcher();
    this.awaitingBodies.clear();
    this.commitsAwaitingPersist.length = 0;
    this.viewChanges.clear();
    this.installedNewView = undefined;
    this.changing = undefined;
    this.checkpointedUpTo.clear();
    this.resentUpTo.clear();
    this.nextSeq = stable.seq + 1;
    if (this.spare) this.slots.leaveView();
    else {
      // The first view of membership k is k · 2^16, the same for every member whenever it
      // crosses, so they all ask for one view at once; one that crosses late (its view is
      // already there) asks for the next and is sent the NEW-VIEW it missed.
      const first = this.membership.epoch * membershipViewGap;
      this.startViewChange(Math.max(first, this.view + 1), out, "membership");
    }
  }

  /** A checkpoint proof carried by another message: stable here if it verifies. */
  private adoptProof(proof: CheckpointProof, out: Out[]): void {
    if (proof.seq <= this.checkpoints.stable.seq) return;
    if (!verifyCheckpointProof(this.crypto, this.params, proof).ok) {
      this.drop("auth", "bad-proof");
      return;
    }
    this.onStable(proof, out);
  }

  /** The proofs of the boundaries we kept, oldest first: a replica behind crosses them in turn. */
  private sendBoundaryProofs(to: ReplicaId, out: Out[]): void {
    if (this.boundaryProofs.length === 0 || this.rateLimited(to)) return;
    for (const proof of this.boundaryProofs) {
      for (const c of proof.proof) if (c.replica !== to) this.send(to, c, out);
    }
  }

  /** At most one answer per retransmission period to one replica (helpStraggler's budget). */
  private rateLimited(to: ReplicaId): boolean {
    const last = this.helped.get(to);
    if (last !== undefined && this.ticks - last < this.settings.retransmitTicks) return true;
    this.helped.set(to, this.ticks);
    return false;
  }

  // ---- the contract ---------------------------------------------------------------------

  status(summaryOnly = false): CoreStatus {
    const active = this.slots.isActive;
    const role = this.spare
      ? "spare"
      : this.fetch
        ? "recovering"
        : !active
          ? "view-change"
          : primaryOf(this.view, this.q.members) === this.id
            ? "primary"
            : "backup";
    const summary = {
      role,
      term: this.view,
      leader: active && !this.spare ? primaryOf(this.view, this.q.members) : undefined,
      commitIndex: this.lastExecuted,
      lastIndex: Math.max(this.lastExecuted, this.nextSeq - 1),
    };
    if (summaryOnly) return summary;
    return {
      ...summary,
      details: {
        members: [...this.membership.members],
        membershipEpoch: this.membership.epoch,
        ...(this.membership.pending
          ? {
              pendingMembers: [...this.membership.pending.members],
              pendingBoundary: this.membership.pending.boundary,
            }
          : {}),
        stableCheckpoint: this.checkpoints.stable.seq,
        lowWaterMark: this.slots.lowWaterMark,
        highWaterMark: this.slots.highWaterMark,
        drops: { ...this.drops },
        viewChanges: { ...this.viewChangeCauses },
        counters: {
          ...this.counters,
          batchSizeCounts: [...this.counters.batchSizeCounts],
          rejected: { ...this.counters.rejected },
        },
      },
    };
  }

  assertInvariants(): void {
    const fail = (what: string) => {
      throw new Error(`pbft invariant (r${this.id}): ${what}`);
    };
    this.slots.assertInvariants();
    if (this.lastExecuted < this.checkedExecuted)
      fail(`executed went back from ${this.checkedExecuted} to ${this.lastExecuted}`);
    if (this.view < this.checkedView)
      fail(`view went back from ${this.checkedView} to ${this.view}`);
    if (this.slots.view > this.view) fail(`slot log in view ${this.slots.view} above ${this.view}`);
    if (this.slots.lowWaterMark > this.checkpoints.stable.seq)
      fail(
        `low water mark ${this.slots.lowWaterMark} above the stable checkpoint ${this.checkpoints.stable.seq}`,
      );
    if (this.slots.lowWaterMark > this.lastExecuted)
      fail(`low water mark ${this.slots.lowWaterMark} above the executed ${this.lastExecuted}`);
    if (this.waiting.size > this.settings.maxQueued) fail(`${this.waiting.size} waiting requests`);
    if (this.tentative && this.tentative.seq !== this.lastExecuted + 1)
      fail(`tentative seq ${this.tentative.seq} is not the one after ${this.lastExecuted}`);
    if (this.viewChanges.size > this.q.n) fail(`${this.viewChanges.size} view-changes held`);
    this.checkedExecuted = this.lastExecuted;
    this.checkedView = this.view;
  }

  step(input: CoreInput<PbftWire>): readonly Out[] {
    const out: Out[] = [];
    if (!this.booted) this.boot(out);
    if (this.spare) {
      this.onSpare(input, out);
      return out;
    }
    switch (input.type) {
      case "tick":
        this.ticks++;
        this.clock = Math.max(this.clock, input.now);
        this.onTick(out);
        break;
      case "client":
        this.onRequest(input.msg, out, true, input.access);
        break;
      case "peer":
        this.onPeer(input.from, input.msg, out);
        break;
      case "persisted":
        this.onPersisted(input.upTo, out);
        break;
      case "applied":
        this.onApplied(input.results, input.admin ?? [], out);
        break;
      case "queryDone": {
        const q = this.queries.get(input.qid);
        if (q) {
          this.queries.delete(input.qid);
          const t = q.tentative !== undefined ? this.tentativeAt(q.tentative) : undefined;
          this.reply(q.client, q.timestamp, input.result as unknown as Value, true, out, false, t);
        }
        break;
      }
      case "snapshotTaken":
        this.onSnapshotTaken(input.index, input.data, out);
        break;
      case "external":
        break; // PBFT asks nothing of the outside world
    }
    this.propose(out);
    return out;
  }

  /**
   * A spare takes no part: it neither orders, votes, answers clients nor serves state. It only
   * takes the checkpoints and state that make it a member: once added, the members send it the
   * boundary's proof (sendProofToLaggards), it fetches that state, and the change takes effect
   * here too (maybeTakeEffect).
   */
  private onSpare(input: CoreInput<PbftWire>, out: Out[]): void {
    if (input.type === "tick") {
      this.ticks++;
      this.clock = Math.max(this.clock, input.now);
      const stable = this.checkpoints.stable;
      if (this.lastExecuted < stable.seq && (this.fetch?.target.seq ?? -1) < stable.seq) {
        this.startFetch(stable, out);
      } else if (
        this.fetch &&
        this.ticks - this.fetch.requestedAt >= this.settings.retransmitTicks * 2
      ) {
        this.fetch.rotate();
        this.requestChunk(out);
      }
    } else if (input.type === "peer" && input.msg.type === "checkpoint") {
      this.onCheckpoint(input.from, input.msg, out);
    } else if (input.type === "peer" && input.msg.type === "statechunk") {
      this.onStateChunk(input.from, input.msg, out);
    } else if (input.type === "client" || input.type === "peer") {
      this.drop("refused", "not-a-member");
    } else if (input.type === "persisted") {
      this.onPersisted(input.upTo, out);
    }
  }

  // ---- start ----------------------------------------------------------------------------

  /**
   * The first step of an incarnation. Every message waits for a hard-state write, so a replica
   * that sent anything has it on disk. Restarting with a stored view means it may have voted in
   * that view and forgotten how: it moves to the next view before voting again.
   */
  private boot(out: Out[]): void {
    this.booted = true;
    // A restarted replica stays in its stored view but abstains there (no PRE-PREPARE, no
    // PREPARE): see `abstainIn`.
    this.persist([hardStateOp(this.view)], out);
    // Tentative execution rolls back to committed state; before the first stable checkpoint
    // that is the empty state, which the service snapshots for us now (onSnapshotTaken).
    if (this.settings.tentativeExecution && this.rollbackPoint.baseIndex === undefined) {
      if (this.lastExecuted === 0) out.push({ type: "takeSnapshot", index: 0 });
    }
  }

  // ---- client requests --------------------------------------------------------------------

  private onRequest(r: Request, out: Out[], fromClient: boolean, access?: ClientAccess): void {
    const op = parseOp(r.op);
    if (!op || (r.readOnly && op.kind !== "query")) {
      this.drop("malformed", "malformed");
      return;
    }
    // An ordered request taken from a client or a peer may be held for the request timer or
    // ordered by us: the signature, which verifies alike everywhere (the big-MAC defence). A
    // read-only one is answered by this replica alone: its own authenticator entry suffices.
    const check = r.readOnly
      ? verifyRequestAt(this.crypto, this.id, r)
      : verifyRequest(this.crypto, r);
    if (this.bug !== "request-signature-not-checked" && !check.ok) {
      this.drop("auth", "bad-signature");
      return;
    }
    if (requestBytes(r).length > this.settings.maxBatchBytes) {
      // Could never be ordered: every replica drops it alike, so no timer runs for it.
      this.drop("malformed", "malformed");
      return;
    }
    if (r.readOnly) {
      if (!fromClient) return;
      // Roles (core/access.ts): a read-only query is answered here, so it is checked here
      // against this replica's applied access state; the client needs 2f+1 matching answers, so
      // a refusal decides only if the correct replicas agree on it. Commands and ordered queries
      // are checked where they execute, at every replica alike (ReplicatedService).
      if (access && (access.revoked || !allows(access.role, "read"))) {
        this.reply(
          r.client,
          r.timestamp,
          forbidden(r.client, access, "read") as unknown as Value,
          true,
          out,
        );
        return;
      }
      // A replica that restarted from its checkpoint may have forgotten writes it executed (and
      // whose replies completed them): it answers reads only once it has executed everything
      // the first view change after its restart re-issued (readOnlyFloor).
      this.answerReadOnly(r, op.value, out);
      return;
    }
    const digest = requestDigest(this.crypto, r);
    const executed =
      r.timestamp > 0 ? this.recentReplies.get(r.client)?.get(r.timestamp) : undefined;
    // From a peer the body is kept even if this request executed here already: a faulty primary
    // (or a retransmission) may have put it in a later batch, which cannot execute without it.
    if (!fromClient || executed === undefined) this.requests.add(digest, r);
    if (!fromClient) {
      // A body we may have been waiting for (forwarded, fetched, or sent apart from its batch).
      this.retryAwaitingBodies(out);
      if (this.slots.isCommittedLocal(this.lastExecuted + 1)) this.execute(out);
    }
    if (executed !== undefined) {
      // The client retries because too few replicas answered: one that lost its reply cache (a
      // restart, a state transfer) can only answer if the request is ordered again, where its
      // session table gives the recorded result. So the request is held and forwarded like a
      // new one; ordering a duplicate is harmless (exactly-once), and it happens only on retries.
      // The primary orders a forwarded one too: the backups that forwarded it hold it for their
      // request timer, and a retry that reached the primary before the request executed there
      // (so it was not ordered again) would otherwise time out at them and change the view.
      if (!fromClient && !this.isPrimary()) return;
      // Already executed here: resend the reply (full: the client is retrying for a reason).
      if (fromClient) {
        const t = this.tentativeReplyOf(r.client, r.timestamp);
        this.reply(r.client, r.timestamp, executed, true, out, true, t);
      }
    }
    const key = toHex(digest);
    if (!this.waiting.has(key)) {
      if (this.waiting.size >= this.settings.maxQueued) {
        this.drop("busy", "busy");
        return;
      }
      this.waiting.add(key, { request: r, digest, since: this.ticks });
    }
    if (!this.slots.isActive) return;
    if (this.isPrimary()) {
      this.enqueue(r, digest);
    } else if (fromClient) {
      // Forward to the primary (§4.1): a client that reached only a backup still gets ordered.
      this.send(primaryOf(this.view, this.q.members), r, out);
    }
  }

  private enqueue(r: Request, digest: Digest): void {
    if (this.proposed.has(toHex(digest))) return;
    const size = requestBytes(r).length;
    const queued = this.batcher.enqueue(digest, size, { request: r, digest });
    if (!queued.accepted && queued.reason !== "duplicate") this.drop("busy", "busy");
  }

  private isPrimary(): boolean {
    return this.slots.isActive && primaryOf(this.view, this.q.members) === this.id;
  }

  private newBatcher(): Batcher<{ request: Request; digest: Digest }> {
    return new Batcher(
      {
        maxRequests: this.settings.maxBatchRequests,
        maxBytes: this.settings.maxBatchBytes,
        maxQueued: this.settings.maxQueued,
        maxInFlight: this.settings.maxInFlight,
      },
      ({ request }) => parseOp(request.op)?.kind === "admin",
    );
  }

  /** Primary: assign sequence numbers to queued requests while the window and pipeline allow. */
  private propose(out: Out[]): void {
    // Before its first tick a replica has no clock to propose a time from.
    if (!this.isPrimary() || this.fetch || this.ticks === 0 || this.view === this.abstainIn) return;
    for (;;) {
      const inFlight = this.nextSeq - 1 - this.lastExecuted;
      const proposal = this.batcher.nextBatch(this.nextSeq, this.slots.highWaterMark, inFlight);
      if (!proposal) {
        this.fillToBoundary(inFlight, out);
        return;
      }
      const fresh = proposal.items.filter((i) => !this.isExecutedDigest(i.digest));
      if (fresh.length === 0) continue;
      const time = proposeTime(this.clock, Math.max(this.lastTime, this.proposedTime));
      const batch: Batch = { time, requests: fresh.map((i) => i.digest) };
      const inline: Request[] = [];
      const separate: Request[] = [];
      for (const { request, digest } of fresh) {
        this.requests.add(digest, request); // the body must be here to serve FETCH-REQUESTS
        const w = this.waiting.get(toHex(digest));
        if (w) w.since = this.ticks;
        if (requestBytes(request).length <= this.settings.inlineRequestBytes) inline.push(request);
        else separate.push(request);
      }
      const seq = this.nextSeq++;
      this.counters.batchesProposed++;
      this.proposedTime = time;
      for (const i of fresh) this.proposed.add(toHex(i.digest));
      const pp = signPrePrepare(
        this.crypto,
        { view: this.view, seq, batch, replica: this.id },
        inline,
      );
      // Large requests go first as their own messages (the pre-prepare names them by digest).
      for (const r of separate) this.broadcast(r, out);
      this.broadcast(pp, out);
      this.ownOf(seq).prePrepare = pp;
      const step = this.slots.addPrePrepare(pp, batchDigest(this.crypto, batch));
      if (!step.accepted) throw new Error(`invariant: own pre-prepare refused (${step.reason})`);
    }
  }

  /**
   * Primary, a membership change pending: with nothing else to order, null requests up to the
   * boundary, so that it is reached (and the change takes effect) without waiting for load.
   */
  private fillToBoundary(inFlight: number, out: Out[]): void {
    const p = this.membership.pending;
    if (!p || this.authorizing !== undefined) return;
    for (let n = inFlight; n < this.settings.maxInFlight && this.nextSeq <= p.boundary; n++) {
      if (this.nextSeq > this.slots.highWaterMark) return;
      const seq = this.nextSeq++;
      const batch = nullBatch;
      const pp = signPrePrepare(this.crypto, { view: this.view, seq, batch, replica: this.id }, []);
      this.broadcast(pp, out);
      this.ownOf(seq).prePrepare = pp;
      const step = this.slots.addPrePrepare(pp, batchDigest(this.crypto, batch));
      if (!step.accepted)
        throw new Error(`invariant: own null pre-prepare refused (${step.reason})`);
    }
  }

  private isExecutedDigest(digest: Digest): boolean {
    // A request re-queued after a view change may have executed meanwhile (re-issued in NEW-VIEW).
    return !this.waiting.has(toHex(digest));
  }

  // ---- peer messages ---------------------------------------------------------------------

  private onPeer(from: ReplicaId, msg: PbftReplicaMessage, out: Out[]): void {
    switch (msg.type) {
      case "request":
        this.onRequest(msg, out, false);
        break;
      case "preprepare":
        this.onPrePrepare(from, msg, out);
        break;
      case "prepare":
        if (msg.replica !== from) {
          this.drop("auth", "wrong-sender");
          return;
        }
        // Prepared already in this view: a later PREPARE adds nothing (the certificate holds 2f),
        // so its signature is not checked (one Ed25519 check per slot at every replica).
        if (msg.view === this.slots.view && this.slots.isPrepared(msg.seq)) return;
        if (!verifyPrepare(this.crypto, msg).ok) {
          this.drop("auth", "bad-signature");
          return;
        }
        this.afterVote(msg.seq, this.slots.addPrepare(msg), out, from);
        break;
      case "commit":
        if (msg.replica !== from) {
          this.drop("auth", "wrong-sender");
          return;
        }
        if (!verifyCommit(this.crypto, this.id, msg).ok) {
          this.drop("auth", "bad-mac");
          return;
        }
        this.afterVote(msg.seq, this.slots.addCommit(msg), out, from);
        break;
      case "checkpoint":
        this.onCheckpoint(from, msg, out);
        break;
      case "viewchange":
        this.onViewChange(from, msg, out);
        break;
      case "newview":
        this.onNewView(msg, out);
        break;
      case "fetch":
        this.onFetch(from, msg, out);
        break;
      case "statechunk":
        this.onStateChunk(from, msg, out);
        break;
      case "fetchrequests":
        this.onFetchRequests(from, msg, out);
        break;
    }
  }

  /**
   * A PRE-PREPARE, from the primary or forwarded by a backup retransmitting for a replica that
   * has not committed (the primary's signature makes it transferable, so the sender does not
   * matter).
   */
  private onPrePrepare(from: ReplicaId, pp: PrePrepare, out: Out[]): void {
    const checked = verifyPrePrepare(this.crypto, pp);
    if (!checked.ok) {
      this.drop("auth", "bad-signature");
      return;
    }
    const digest = checked.digest;
    const existing = this.slots.prePrepareAt(pp.seq);
    // 2f+1 COMMITs for this digest: it committed, whatever pre-prepare we hold (slot-log.ts).
    const certified = existing !== undefined && this.slots.isCommitCertified(pp.seq, digest);
    // Between views, the view we left still counts for executing what commits in it (below).
    const logView = this.slots.view;
    if (existing && pp.view === logView && !certified) {
      // A retransmission: the sender did not see our prepare; send it again.
      const mine = this.own.get(pp.seq)?.prepare;
      if (mine && equalBytes(this.slots.digestAt(pp.seq)!, digest)) this.send(from, mine, out);
      return;
    }
    if (
      pp.view !== logView ||
      this.slots.windowCheck(pp.seq) !== undefined ||
      pp.replica !== primaryOf(pp.view, this.q.members) ||
      pp.replica === this.id
    ) {
      this.drop(
        "refused",
        pp.view !== logView
          ? "wrong-view"
          : this.slots.windowCheck(pp.seq) !== undefined
            ? "outside-window"
            : "not-primary",
      );
      return;
    }
    for (const r of pp.inline) {
      // The primary checked the signature before ordering it; our own authenticator entry shows
      // the client made it, and the signature is checked only when that entry fails.
      const check = verifyRequestAt(this.crypto, this.id, r);
      if (this.bug !== "request-signature-not-checked" && !check.ok) {
        this.drop("auth", "bad-signature");
        return; // a primary that forwards a forged request is faulty: let the timers replace it
      }
      this.requests.add(requestDigest(this.crypto, r), r);
    }
    if (this.ticks === 0) return; // no clock yet to check the proposed time against; it is retransmitted
    // A committed batch's time was accepted by f+1 correct replicas: not ours to refuse.
    if (!certified && pp.batch.requests.length > 0 && this.bug !== "primary-time-not-checked") {
      const previous = Math.max(this.lastTime, this.timeBefore(pp.seq));
      const time = checkProposedTime(
        pp.batch.time,
        previous,
        this.clock,
        this.settings.timeBoundMs,
      );
      if (!time.ok) {
        this.drop("timeRefused", "bad-time");
        if (this.slots.isActive) this.startViewChange(this.view + 1, out);
        return;
      }
    }
    const resolution = this.requests.resolve(pp.batch);
    if (resolution.status === "refused") {
      this.drop("refused", "bad-batch");
      if (this.slots.isActive) this.startViewChange(this.view + 1, out);
      return;
    }
    if (resolution.status === "missing") {
      this.awaitingBodies.set(pp.seq, { pp, digest });
      this.fetchRequests(resolution.digests, pp.replica, out);
      return;
    }
    this.acceptPrePrepare(pp, digest, out);
  }

  /** The proposed time of the accepted pre-prepare just below `seq` in this view, or 0. */
  private timeBefore(seq: number): number {
    for (let s = seq - 1; s > this.slots.lowWaterMark && s >= seq - 8; s--) {
      const pp = this.slots.prePrepareAt(s);
      if (pp && pp.batch.requests.length > 0) return pp.batch.time;
    }
    return 0;
  }

  private acceptPrePrepare(pp: PrePrepare, digest: Digest, out: Out[]): void {
    const step = this.slots.addPrePrepare(pp, digest);
    if (!step.accepted) {
      this.drop("refused", slotRejection(step.reason));
      return;
    }
    if (step.replaced) {
      // Our PREPARE named the faulty primary's other batch: stop resending it, send no other.
      const mine = this.own.get(pp.seq);
      if (mine) mine.prepare = undefined;
      this.counters.adoptedCommitted++;
    }
    // Prepares (and commits) may have arrived before the pre-prepare: this may complete them.
    this.afterVote(pp.seq, step, out);
    for (const d of pp.batch.requests) {
      const w = this.waiting.get(toHex(d));
      if (w) w.since = this.ticks; // ordered now: the timer measures execution from here
    }
    // Between views we only watch the view we left (see SlotLog.common): no more votes in it.
    if (!step.replaced && this.slots.isActive) this.sendPrepare(pp, digest, out);
  }

  /** This backup's PREPARE for an accepted pre-prepare: signed, sent, and counted here too. */
  private sendPrepare(pp: PrePrepare, digest: Digest, out: Out[]): void {
    if (pp.view === this.abstainIn) return;
    const prepare = signPrepare(this.crypto, {
      view: pp.view,
      seq: pp.seq,
      digest,
      replica: this.id,
    });
    this.ownOf(pp.seq).prepare = prepare;
    this.broadcast(prepare, out);
    this.afterVote(pp.seq, this.slots.addPrepare(prepare), out);
  }

  private afterVote(seq: number, step: SlotStep, out: Out[], from?: ReplicaId): void {
    if (!step.accepted) {
      if (step.reason !== "duplicate") this.drop("refused", slotRejection(step.reason));
      if (from !== undefined) this.helpStraggler(from, seq, step.reason, out);
      return;
    }
    if (step.nowPrepared) this.onPrepared(seq, out);
    if (step.nowPrepared && this.bug === "execute-before-commit") this.execute(out);
    // Prepared may be enough to execute tentatively (executeTentatively).
    if (step.nowCommitted || (step.nowPrepared && this.settings.tentativeExecution))
      this.execute(out);
  }

  /**
   * A replica sends again what we have already: it is retransmitting because it is stuck. Answer
   * with our own messages for that seq (our retransmissions only go to replicas whose commit we
   * lack, so one that committed but misses ours would wait forever), or, if the seq is below our
   * window, with the proof of our stable checkpoint so it fetches the state. At most once per
   * retransmission period per replica.
   */
  private helpStraggler(from: ReplicaId, seq: number, reason: string, out: Out[]): void {
    if (reason !== "duplicate" && reason !== "below-window") return;
    const last = this.helped.get(from);
    if (last !== undefined && this.ticks - last < this.settings.retransmitTicks) return;
    this.helped.set(from, this.ticks);
    if (reason === "below-window") {
      for (const c of this.checkpoints.stable.proof) this.send(from, c, out);
      return;
    }
    this.resendSlot(from, seq, out);
  }

  /**
   * Our messages for `seq` to one replica that seems not to have them: the pre-prepare we
   * accepted (ours, or the primary's, forwarded: a replica that missed it or took a faulty
   * primary's other one needs it to execute what committed), our prepare and our commit.
   */
  private resendSlot(to: ReplicaId, seq: number, out: Out[]): void {
    const mine = this.own.get(seq);
    const accepted = mine?.prePrepare ?? this.slots.prePrepareAt(seq);
    if (accepted && accepted.view === this.view) this.send(to, accepted, out);
    if (mine?.prepare && mine.prepare.view === this.view) this.send(to, mine.prepare, out);
    if (mine?.commit && mine.commit.view === this.view) this.send(to, mine.commit, out);
  }

  /** Prepared: make the certificate durable, then send COMMIT (and count our own). */
  private onPrepared(seq: number, out: Out[]): void {
    // Prepared from others' messages in the view we left: our VIEW-CHANGE is out, so we vote no
    // more in that view; the slot still executes on 2f+1 COMMITs from the others.
    if (!this.slots.isActive) return;
    const cert = this.slots.certificateAt(seq);
    if (!cert) throw new Error(`invariant: seq ${seq} prepared without a certificate`);
    // The certificate is what a view change will show others: it must convince them.
    const valid = verifyPreparedCertificate(this.crypto, this.params, cert);
    if (!valid.ok) {
      throw new Error(
        `pbft invariant (r${this.id}): seq ${seq} prepared on an invalid certificate (${valid.reason})`,
      );
    }
    const bodies = cert.prePrepare.batch.requests
      .map((d) => this.requests.get(d))
      .filter((r): r is Request => r !== undefined);
    const id = this.persist([certPut(cert, bodies)], out);
    this.certSeqs.add(seq);
    this.certPersistIds.set(seq, id);
    const commit = makeCommit(this.crypto, this.n, {
      view: this.view,
      seq,
      digest: this.slots.digestAt(seq)!,
      replica: this.id,
    });
    this.ownOf(seq).commit = commit;
    this.broadcast(commit, out, id);
    this.commitsAwaitingPersist.push({ id, commit });
  }

  private onPersisted(upTo: number, out: Out[]): void {
    while (this.commitsAwaitingPersist.length > 0 && this.commitsAwaitingPersist[0]!.id <= upTo) {
      const { commit } = this.commitsAwaitingPersist.shift()!;
      if (commit.view !== this.view || !this.slots.isActive) continue;
      this.afterVote(commit.seq, this.slots.addCommit(commit), out);
    }
  }

  // ---- execution -------------------------------------------------------------------------

  /**
   * Executes every committed seq in order from the last executed one, as far as possible; then,
   * with tentative execution on, the next one if it is prepared (executeTentatively).
   */
  private execute(out: Out[]): void {
    // A membership change's authorization comes back with `applied`: the membership as of the
    // next seq depends on it.
    while (!this.fetch && this.authorizing === undefined) {
      const seq = this.lastExecuted + 1;
      if (this.tentative) {
        if (!this.slots.isCommittedLocal(seq)) return;
        this.confirmTentative(out);
        continue;
      }
      const ready =
        this.bug === "execute-before-commit"
          ? this.slots.isPrepared(seq)
          : this.slots.isCommittedLocal(seq);
      if (!ready) {
        this.executeTentatively(seq, out);
        return;
      }
      const pp = this.slots.prePrepareAt(seq)!;
      if (this.slots.matchingCommits(seq) < this.q.quorum) {
        throw new Error(
          `pbft invariant (r${this.id}): executing seq ${seq} with ${this.slots.matchingCommits(seq)} matching commits, fewer than ${this.q.quorum}`,
        );
      }
      // Time is agreed within the bound of correct clocks (§4.6): a batch far beyond ours was
      // never checked by a correct backup. The margin covers skew between correct clocks.
      const margin = 2 * this.settings.timeBoundMs + clockSkewMarginMs;
      if (pp.batch.requests.length > 0 && this.clock > 0 && pp.batch.time > this.clock + margin) {
        throw new Error(
          `pbft invariant (r${this.id}): seq ${seq} carries time ${pp.batch.time}, ${pp.batch.time - this.clock} ms beyond this replica's clock`,
        );
      }
      const requests = this.batchRequests(pp, out);
      if (!requests) return;
      const { entry, orderedQueries, membershipChange } = this.entryOf(
        seq,
        pp,
        requests,
        out,
        undefined,
      );
      out.push({ type: "apply", entries: [entry] });
      this.appliedMarks.push("committed", seq);
      this.finishExecution(seq, pp, requests, entry);
      for (const { request, q } of orderedQueries) this.runOrderedQuery(request, q, seq, out);
      if (membershipChange) {
        this.authorizing = { seq, ...membershipChange };
        return; // the checkpoint at seq, if any, waits for the change (onApplied)
      }
      this.checkpointIfDue(seq, out);
    }
  }

  /**
   * The requests of a batch about to execute, or undefined while bodies are missing (fetched).
   * A committed batch the rules refuse (a faulty primary's duplicate or read-only request)
   * executes as the null request at every correct replica alike.
   */
  private batchRequests(pp: PrePrepare, out: Out[]): readonly Request[] | undefined {
    const resolution = this.requests.resolve(pp.batch);
    if (resolution.status === "missing") {
      this.fetchRequests(resolution.digests, undefined, out);
      return undefined;
    }
    return resolution.status === "complete" ? resolution.requests : [];
  }

  /** The log entry of the batch at `seq`, and the ordered queries to run after it. */
  private entryOf(
    seq: number,
    pp: PrePrepare,
    requests: readonly Request[],
    out: Out[],
    tentative: TentativeReply | undefined,
  ): {
    entry: LogEntry;
    orderedQueries: { request: Request; q: Value }[];
    membershipChange:
      | { client: ClientId; aid: number; op: MembershipOp; ackedBelow: number }
      | undefined;
  } {
    const digest = this.slots.digestAt(seq)!;
    const commands: LoggedCommand[] = [];
    const orderedQueries: { request: Request; q: Value }[] = [];
    let accessChange: AccessEntry | undefined;
    let membershipChange:
      | { client: ClientId; aid: number; op: MembershipOp; ackedBelow: number }
      | undefined;
    for (const r of requests) {
      const op = parseOp(r.op);
      if (!op) continue; // cannot happen: requests are checked before they enter the store
      if (op.kind === "query") orderedQueries.push({ request: r, q: op.value });
      else if (op.kind === "admin") {
        // An access change is an entry of its own; a correct primary batches it alone. One
        // that did not (a faulty primary) gets it refused at every correct replica alike, and
        // the client asks again.
        if (requests.length !== 1)
          this.reply(r.client, r.timestamp, mixedAccessChange, true, out, false, tentative);
        else if (isMembershipChange(op.value))
          membershipChange = {
            client: r.client,
            aid: r.timestamp,
            op: op.value,
            ackedBelow: r.ackedBelow,
          };
        else
          accessChange = {
            by: r.client,
            aid: r.timestamp,
            change: op.value,
            ackedBelow: r.ackedBelow,
          };
      } else
        commands.push({
          client: r.client,
          seq: r.timestamp,
          ackedBelow: r.ackedBelow,
          cmd: op.value,
          auth: r.sig,
        });
    }
    const entry: LogEntry = {
      index: seq,
      // Not the view: a batch committed in one view and re-issued in the next is the same entry.
      term: 0,
      time: requests.length > 0 ? pp.batch.time : 0,
      seed: seedFor(this.crypto, seq, digest),
      // A membership change is logged as an authorization: the service checks the asker's role
      // at this index and the core carries the change out when the answer comes (onApplied).
      payload: membershipChange
        ? authorizationPayload({
            by: membershipChange.client,
            aid: membershipChange.aid,
            op: membershipChange.op,
            ackedBelow: membershipChange.ackedBelow,
          })
        : accessChange
          ? accessPayload(accessChange)
          : commands.length > 0
            ? { type: "commands", commands }
            : { type: "noop" },
    };
    return { entry, orderedQueries, membershipChange };
  }

  /** Bookkeeping once the batch at `seq` is executed and committed. */
  private finishExecution(
    seq: number,
    pp: PrePrepare,
    requests: readonly Request[],
    entry: LogEntry,
  ): void {
    countBatch(this.counters, requests.length);
    this.lastExecuted = seq;
    this.lastExecutedTick = this.ticks;
    if (requests.length > 0) this.lastTime = Math.max(this.lastTime, pp.batch.time);
    this.consecutiveViewChanges = 0;
    const digests = pp.batch.requests;
    for (const d of digests) {
      const key = toHex(d);
      this.waiting.delete(key);
      this.proposed.delete(key);
    }
    this.batcher.remove(digests);
    // Other held copies this execution made moot (same client: that timestamp, or below what
    // the client still waits for) stop the request timer too; a primary drops them unproposed.
    for (const r of requests) {
      const moot = this.waiting.settle(r.client, r.timestamp, r.ackedBelow);
      if (moot.length > 0) this.batcher.remove(moot);
    }
    this.rollbackPoint.committed(entry);
    this.certPersistIds.delete(seq);
  }

  private runOrderedQuery(request: Request, q: Value, seq: number, out: Out[]): void {
    const qid = this.nextQid++;
    const tentative = this.tentative?.seq === seq ? seq : undefined;
    this.queries.set(
      qid,
      tentative === undefined
        ? { client: request.client, timestamp: request.timestamp }
        : { client: request.client, timestamp: request.timestamp, tentative },
    );
    out.push({ type: "query", client: request.client, qid, q, atIndex: seq });
  }

  // ---- tentative execution (tentative.ts) ------------------------------------------------

  /**
   * §5.1.2: the slot after the last executed one is prepared but not committed. Execute it now
   * and reply tentatively, if nothing else is tentative, this replica votes in the view (not
   * between views), its prepared certificate is being written (replies wait for it like the
   * COMMIT does), and it can return to the committed state if a view change binds the slot to
   * another batch.
   */
  private executeTentatively(seq: number, out: Out[]): void {
    if (!this.settings.tentativeExecution || this.bug === "execute-before-commit") return;
    if (this.tentative || !this.slots.isActive || !this.slots.isPrepared(seq)) return;
    const after = this.certPersistIds.get(seq);
    if (after === undefined || !this.rollbackPoint.canRestore(this.lastExecuted)) return;
    const pp = this.slots.prePrepareAt(seq)!;
    const requests = this.batchRequests(pp, out);
    if (!requests) return;
    // Admin requests (access and membership changes) change more than the service's state, and
    // a membership change pauses execution for its authorization: they execute once committed.
    if (requests.some((r) => parseOp(r.op)?.kind === "admin")) return;
    const { entry, orderedQueries } = this.entryOf(seq, pp, requests, out, { after });
    this.tentative = {
      seq,
      digest: this.slots.digestAt(seq)!,
      entry,
      requests,
      after,
      replied: [],
    };
    this.counters.tentativeExecutions++;
    out.push({ type: "apply", entries: [entry], tentative: true });
    this.appliedMarks.push("tentative", seq);
    for (const { request, q } of orderedQueries) this.runOrderedQuery(request, q, seq, out);
  }

  /**
   * The tentative slot committed: its execution becomes final. The driver is told with an
   * `apply` of the same entry (it does not execute it again); the clients already have their
   * replies, which a retransmitted request now gets as committed from the reply cache.
   */
  private confirmTentative(out: Out[]): void {
    const t = this.tentative!;
    const pp = this.slots.prePrepareAt(t.seq)!;
    const digest = this.slots.digestAt(t.seq)!;
    if (!equalBytes(digest, t.digest) && this.bug !== "tentative-without-rollback") {
      throw new Error(
        `pbft invariant (r${this.id}): seq ${t.seq} committed another batch than the one executed tentatively, and was not rolled back`,
      );
    }
    this.tentative = undefined;
    out.push({ type: "apply", entries: [t.entry] });
    this.appliedMarks.push("silent", t.seq);
    this.finishExecution(t.seq, pp, t.requests, t.entry);
    this.checkpointIfDue(t.seq, out);
    this.releaseHeldReads(out);
  }

  /**
   * A NEW-VIEW was accepted: the tentative slot survives only if the new view re-issues the same
   * batch at it (it then commits there); otherwise its execution is undone.
   */
  private settleTentative(nv: NewView, checkpointSeq: number, out: Out[]): void {
    const t = this.tentative;
    if (!t) return;
    const reissued = nv.prePrepares.find((pp) => pp.seq === t.seq);
    const same =
      reissued !== undefined &&
      checkpointSeq < t.seq &&
      equalBytes(batchDigest(this.crypto, reissued.batch), t.digest);
    // The planted bug keeps the tentative effects whatever the new view put at the slot.
    if (same || this.bug === "tentative-without-rollback") return;
    this.rollBack(out);
  }

  /**
   * Undo the tentative execution: restore the newest snapshot of committed state and execute the
   * committed entries above it again (tentative.ts). Replies it caused and queries it ran are
   * forgotten; the requests stay held for the request timer, to be ordered again.
   */
  private rollBack(out: Out[]): void {
    const t = this.tentative;
    if (!t) return;
    this.tentative = undefined;
    this.forgetTentative(t);
    const back = this.rollbackPoint.restore(this.lastExecuted);
    out.push({ type: "installSnapshot", meta: back.meta, data: back.data, rollback: true });
    if (back.entries.length > 0) {
      out.push({ type: "apply", entries: back.entries });
      this.appliedMarks.push("silent", this.lastExecuted);
    }
    this.counters.tentativeRollbacks++;
    this.releaseHeldReads(out);
  }

  /** The tentative execution is gone (rolled back, or replaced by a transferred state). */
  private forgetTentative(t: TentativeSlot): void {
    this.appliedMarks.silenceTentative();
    for (const [qid, q] of [...this.queries]) if (q.tentative === t.seq) this.queries.delete(qid);
    for (const { client, timestamp } of t.replied)
      this.recentReplies.get(client)?.delete(timestamp);
  }

  private tentativeAt(seq: number): TentativeSlot | undefined {
    return this.tentative?.seq === seq ? this.tentative : undefined;
  }

  /** The tentative slot, if the cached reply to (client, timestamp) came from its execution. */
  private tentativeReplyOf(client: ClientId, timestamp: number): TentativeSlot | undefined {
    const t = this.tentative;
    return t?.replied.some((x) => x.client === client && x.timestamp === timestamp) ? t : undefined;
  }

  /**
   * A read-only query runs on the state this replica has executed, which must be committed
   * (§5.1.3 with §5.1.2): while a batch is tentative the query waits for it to commit or be
   * rolled back.
   */
  private answerReadOnly(r: Request, q: Value, out: Out[]): void {
    if (this.tentative) {
      if (this.heldReads.length >= this.settings.maxQueued) this.drop("busy", "busy");
      else this.heldReads.push(r);
      return;
    }
    // A replica that restarted from its checkpoint may have forgotten writes it executed (and
    // whose replies completed them): it answers reads only once it has executed everything
    // the first view change after its restart re-issued (readOnlyFloor).
    if (this.readOnlyBlocked || this.lastExecuted < this.readOnlyFloor || this.fetch) return;
    const qid = this.nextQid++;
    this.queries.set(qid, { client: r.client, timestamp: r.timestamp });
    out.push({ type: "query", client: r.client, qid, q, atIndex: this.lastExecuted });
  }

  private releaseHeldReads(out: Out[]): void {
    for (const r of this.heldReads.splice(0)) {
      const op = parseOp(r.op);
      if (op) this.answerReadOnly(r, op.value, out);
    }
  }

  /**
   * Checkpoints are of committed state only: taken when their seq has executed and committed,
   * with the membership in force then.
   */
  private checkpointIfDue(seq: number, out: Out[]): void {
    if (seq % this.settings.checkpointInterval !== 0) return;
    this.snapshotRequested = seq;
    this.membershipAt.set(seq, this.membership);
    out.push({ type: "takeSnapshot", index: seq });
  }

  /**
   * The service's answer to a membership change's authorization: carry the change out (or refuse
   * it, the same way at every correct replica), answer the asker, and go on executing.
   */
  private onAuthorized(a: AppliedAdmin, out: Out[]): void {
    const pending = this.authorizing!;
    this.authorizing = undefined;
    let result: Value = a.result as unknown as Value;
    if (a.repeated && a.result.ok) {
      // Ordered before (a retry, or a faulty primary replaying an old request): never carried
      // out twice. The answer given then, if this replica still has it; otherwise say so.
      result = this.recentReplies.get(pending.client)?.get(pending.aid) ?? {
        ok: false,
        error: "invalid",
        message: `pbft: membership change ${pending.client}#${pending.aid} was ordered before; it is not carried out again`,
      };
    } else if (a.result.ok) {
      const verdict = applyChange(this.membership, pending.op, pending.seq, {
        interval: this.settings.checkpointInterval,
        windowSize: this.bug === "reconfig-at-execution" ? 0 : this.settings.windowSize,
        replicaCount: this.n,
      });
      if (verdict.ok) {
        this.membership = verdict.record;
        this.enforceBoundary();
        const p = verdict.record.pending!;
        result = { ok: true, value: { members: [...p.members], boundary: p.boundary } };
      } else result = { ok: false, error: "invalid", message: `pbft: ${verdict.message}` };
    }
    this.rememberReply(pending.client, pending.aid, result);
    this.reply(pending.client, pending.aid, result, true, out);
    this.checkpointIfDue(pending.seq, out);
    this.execute(out);
  }

  private onApplied(
    results: readonly AppliedCommand[],
    admin: readonly AppliedAdmin[],
    out: Out[],
  ): void {
    const mark = this.appliedMarks.shift();
    // A tentative batch made final, or committed ones executed again after a rollback: their
    // clients have had their replies.
    if (mark?.kind === "silent") return;
    // Tentative, unless it committed since (then these replies are committed ones).
    const t = mark?.kind === "tentative" ? this.tentativeAt(mark.seq) : undefined;
    // Access changes are answered by every replica, in full (they are rare and small).
    for (const a of admin) {
      if (this.authorizing && a.index === this.authorizing.seq) {
        this.onAuthorized(a, out);
        continue;
      }
      const result = a.result as unknown as Value;
      this.rememberReply(a.client, a.aid, result);
      t?.replied.push({ client: a.client, timestamp: a.aid });
      this.reply(a.client, a.aid, result, true, out, false, t);
    }
    for (const r of results) {
      const result = r.result as unknown as Value;
      if (r.seq > 0) {
        this.rememberReply(r.client, r.seq, result);
        t?.replied.push({ client: r.client, timestamp: r.seq });
      }
      // Session openings are never cached for retransmission (timestamp 0 repeats), so their
      // tiny result always travels in full; otherwise the designated replica sends it (§5.1.1).
      const full =
        !this.settings.digestReplies || r.seq === 0 || this.q.members[r.seq % this.q.n] === this.id;
      this.reply(r.client, r.seq, result, full, out, false, t);
    }
  }

  private rememberReply(client: ClientId, timestamp: number, result: Value): void {
    let replies = this.recentReplies.get(client);
    if (replies)
      this.recentReplies.delete(client); // re-insert: least recently used first
    else replies = new Map();
    this.recentReplies.set(client, replies);
    replies.set(timestamp, result);
    if (replies.size > repliesPerClient) replies.delete(Math.min(...replies.keys()));
    if (this.recentReplies.size > maxRememberedClients) {
      this.recentReplies.delete(this.recentReplies.keys().next().value!);
    }
  }

  private reply(
    client: ClientId,
    timestamp: number,
    result: Value,
    full: boolean,
    out: Out[],
    forceFull = false,
    tentative?: TentativeReply,
  ): void {
    const msg: Reply = makeReply(
      this.crypto,
      {
        view: this.view,
        timestamp,
        client,
        replica: this.id,
        tentative: tentative !== undefined,
        // After a change, every reply tells the client who the members are (client.ts learns).
        ...(this.membership.epoch > 0
          ? { config: { epoch: this.membership.epoch, members: this.membership.members } }
          : {}),
      },
      result,
      full || forceFull,
    );
    // A tentative reply vouches that this replica prepared the batch: like its COMMIT, it
    // leaves only once the prepared certificate is on disk.
    const after = tentative ? Math.max(this.bootId, tentative.after) : this.bootId;
    out.push({ type: "reply", client, msg, after });
  }

  // ---- checkpoints -----------------------------------------------------------------------

  private onSnapshotTaken(seq: number, service: Uint8Array, out: Out[]): void {
    if (seq === 0) {
      // The empty state, asked for at boot: what a rollback before any checkpoint returns to.
      if (this.lastExecuted === 0) this.rollbackPoint.setBase(genesisMeta(this.n), service);
      return;
    }
    if (seq % this.settings.checkpointInterval !== 0 || seq <= this.slots.lowWaterMark) return;
    const membership = this.membershipAt.get(seq);
    if (!membership) return; // not one this incarnation asked for
    for (const at of [...this.membershipAt.keys()]) if (at <= seq) this.membershipAt.delete(at);
    if (seq === this.snapshotRequested) this.snapshotRequested = 0;
    const data = checkpointData(membership, service);
    const tree = new StateTree(this.crypto, data, this.settings.chunkBytes);
    const time = snapshotPosition(service).time;
    this.pendingCheckpoints.set(seq, {
      seq,
      digest: tree.digest,
      tree,
      data,
      service,
      membership,
      time,
    });
    const c = signCheckpoint(this.crypto, { seq, stateDigest: tree.digest, replica: this.id });
    this.ownCheckpoint = c;
    this.broadcast(c, out);
    if (seq <= this.checkpoints.stable.seq) this.collect(out);
    else this.addCheckpoint(c, out);
  }

  /**
   * A CHECKPOINT: the signer's own, or one of a stable checkpoint's proof forwarded by a replica
   * that saw us behind (signed, so the sender does not matter).
   */
  private onCheckpoint(from: ReplicaId, c: Checkpoint, out: Out[]): void {
    if (!verifyCheckpoint(this.crypto, c).ok) {
      this.drop("auth", "bad-signature");
      return;
    }
    if (c.replica === from && c.seq > (this.checkpointedUpTo.get(from) ?? 0)) {
      this.checkpointedUpTo.set(from, c.seq);
    }
    this.addCheckpoint(c, out);
  }

  /**
   * Replicas that have not told us of a checkpoint as recent as our stable one are behind (or
   * lost their CHECKPOINT): send them the proof, so that they learn there is a state to fetch
   * even when no new checkpoint is coming (the load stopped) and they send nothing themselves
   * (a restarted replica abstains). Every `proofEveryRounds` retransmission rounds at most.
   */
  private sendProofToLaggards(out: Out[]): void {
    const stable = this.checkpoints.stable;
    if (stable.seq === 0) return;
    for (const to of this.others()) {
      if ((this.checkpointedUpTo.get(to) ?? 0) >= stable.seq) continue;
      const last = this.proofSentAt.get(to);
      if (
        last !== undefined &&
        this.ticks - last < this.settings.retransmitTicks * proofEveryRounds
      )
        continue;
      this.proofSentAt.set(to, this.ticks);
      // Boundaries it has not reached first: a proof above one is signed by members it may not
      // know yet.
      for (const proof of this.boundaryProofs) {
        if ((this.checkpointedUpTo.get(to) ?? 0) >= proof.seq || proof.seq === stable.seq) continue;
        for (const c of proof.proof) if (c.replica !== to) this.send(to, c, out);
      }
      for (const c of stable.proof) if (c.replica !== to) this.send(to, c, out);
    }
  }

  private addCheckpoint(c: Checkpoint, out: Out[]): void {
    const step = this.checkpoints.add(c);
    if (step.accepted && step.nowStable) this.onStable(step.nowStable, out);
  }

  /** A checkpoint became stable (2f+1 matching CHECKPOINTs, or a verified proof from elsewhere). */
  private onStable(proof: CheckpointProof, out: Out[]): void {
    // A stable checkpoint is what state transfer and view changes trust: its proof must hold.
    const valid = verifyCheckpointProof(this.crypto, this.params, proof);
    if (!valid.ok) {
      throw new Error(
        `pbft invariant (r${this.id}): checkpoint ${proof.seq} stable on an invalid proof (${valid.reason})`,
      );
    }
    this.checkpoints.install(proof);
    const stable = this.checkpoints.stable;
    if (stable.seq > this.countedStable) {
      this.countedStable = stable.seq;
      this.counters.checkpointsStable++;
    }
    if (this.lastExecuted < stable.seq && this.behindSince === undefined) {
      this.behindSince = this.ticks;
    }
    // Far beyond what this replica can still order itself: fetch the state at once.
    if (stable.seq > this.lastExecuted + this.settings.windowSize) this.startFetch(stable, out);
    this.collect(out);
  }

  /**
   * Garbage collection (§4.3) once this replica has executed up to the stable checkpoint: the
   * low water mark moves there, the snapshot is written with its proof, and everything below goes.
   * A replica slightly behind keeps its slots and catches up by executing; one that stays behind
   * fetches the state (onTick).
   */
  private collect(out: Out[]): void {
    const stable = this.checkpoints.stable;
    if (stable.seq <= this.slots.lowWaterMark || this.lastExecuted < stable.seq) return;
    this.behindSince = undefined;
    const mine = this.pendingCheckpoints.get(stable.seq);
    if (!mine && this.snapshotRequested === stable.seq) return; // snapshotTaken comes next
    if (mine && !equalBytes(mine.digest, stable.stateDigest)) {
      // 2f+1 replicas vouch for another state than ours: impossible for a correct replica
      // (determinism); fetch theirs rather than carry on diverged.
      this.startFetch(stable, out);
      return;
    }
    if (mine) {
      this.served = mine;
      this.persistSnapshot(stable, mine, out);
      this.rollbackPoint.setBase(
        snapshotMeta(stable, mine.time, membershipValue(mine.membership)),
        mine.service,
      );
    }
    this.garbageCollect(stable.seq);
    this.maybeTakeEffect(out);
  }

  private persistSnapshot(proof: CheckpointProof, s: Served, out: Out[]): void {
    const ops: PersistOp[] = [
      {
        type: "snapshot",
        meta: snapshotMeta(proof, s.time, membershipValue(s.membership)),
        data: s.service,
      },
    ];
    for (const seq of [...this.certSeqs]) {
      if (seq <= proof.seq) {
        ops.push({ type: "delete", key: certKey(seq) });
        this.certSeqs.delete(seq);
      }
    }
    this.persist(ops, out);
  }

  private garbageCollect(stableSeq: number): void {
    this.slots.advanceLowWaterMark(stableSeq);
    for (const seq of [...this.own.keys()]) if (seq <= stableSeq) this.own.delete(seq);
    for (const seq of [...this.awaitingBodies.keys()])
      if (seq <= stableSeq) this.awaitingBodies.delete(seq);
    for (const seq of [...this.pendingCheckpoints.keys()])
      if (seq <= stableSeq) this.pendingCheckpoints.delete(seq);
    for (const seq of [...this.certPersistIds.keys()])
      if (seq <= stableSeq) this.certPersistIds.delete(seq);
    // Bodies nobody waits for and no batch in the window names go: executed ones, and a faulty
    // client's requests that were never ordered, so junk never fills the store. A request
    // executed below the checkpoint may still be named by a batch above it (a retransmission a
    // primary ordered twice), and that batch cannot execute without it.
    const keep = new Set(this.waiting.keys());
    for (let seq = stableSeq + 1; seq <= this.slots.highWaterMark; seq++) {
      const pp = this.slots.prePrepareAt(seq) ?? this.awaitingBodies.get(seq)?.pp;
      for (const d of pp?.batch.requests ?? []) keep.add(toHex(d));
    }
    this.requests.retainOnly(keep);
    if (this.ownCheckpoint && this.ownCheckpoint.seq <= stableSeq) this.ownCheckpoint = undefined;
    if (this.nextSeq <= stableSeq) this.nextSeq = stableSeq + 1;
  }

  // ---- state transfer --------------------------------------------------------------------

  private startFetch(target: CheckpointProof, out: Out[]): void {
    if (this.fetch && this.fetch.target.seq >= target.seq) return;
    this.fetch = new StateFetch(
      this.crypto,
      target,
      this.id,
      this.q.members,
      this.settings.chunkBytes,
      this.id,
    );
    this.requestChunk(out);
  }

  private requestChunk(out: Out[]): void {
    const f = this.fetch!;
    f.requestedAt = this.ticks;
    const msg: Fetch = makeFetch(this.crypto, f.source, {
      replica: this.id,
      seq: f.target.seq,
      stateDigest: f.target.stateDigest,
      chunk: f.nextChunk,
    });
    this.send(f.source, msg, out);
  }

  private onFetch(from: ReplicaId, f: Fetch, out: Out[]): void {
    if (f.replica !== from) {
      this.drop("auth", "wrong-sender");
      return;
    }
    if (!verifyFetch(this.crypto, f).ok) {
      this.drop("auth", "bad-mac");
      return;
    }
    const s =
      this.served?.seq === f.seq
        ? this.served
        : (this.pendingCheckpoints.get(f.seq) ?? this.boundaryServed.find((b) => b.seq === f.seq));
    if (!s || !equalBytes(s.digest, f.stateDigest) || f.chunk >= s.tree.chunks) return;
    const c = s.tree.chunk(f.chunk);
    const msg: StateChunk = makeStateChunk(this.crypto, from, {
      replica: this.id,
      seq: s.seq,
      stateDigest: s.digest,
      ...c,
    });
    this.send(from, msg, out);
  }

  private onStateChunk(from: ReplicaId, c: StateChunk, out: Out[]): void {
    if (c.replica !== from) {
      this.drop("auth", "wrong-sender");
      return;
    }
    if (!verifyStateChunk(this.crypto, c).ok) {
      this.drop("auth", "bad-mac");
      return;
    }
    const f = this.fetch;
    if (!f) return;
    const verdict = f.onChunk(c);
    if (verdict === "bad") {
      this.drop("refused", "bad-proof");
      this.requestChunk(out);
    } else if (verdict === "more") {
      this.requestChunk(out);
    } else if (verdict === "complete") {
      this.install(f, out);
    }
  }

  private install(f: StateFetch, out: Out[]): void {
    const data = f.data();
    const proof = f.target;
    // The bytes match the digest 2f+1 replicas signed: a correct replica's state, membership included.
    const { record, service } = splitCheckpointData(data, this.n);
    const membership = record ?? initialMembership(this.settings.members ?? membersOf(this.n));
    const time = snapshotPosition(service).time;
    const served: Served = {
      seq: proof.seq,
      digest: proof.stateDigest,
      tree: new StateTree(this.crypto, data, this.settings.chunkBytes),
      data,
      service,
      membership,
      time,
    };
    this.fetch = undefined;
    this.served = served;
    const meta = snapshotMeta(proof, time, membershipValue(membership));
    this.persistSnapshot(proof, served, out);
    out.push({ type: "installSnapshot", meta, data: service });
    this.rollbackPoint.setBase(meta, service);
    if (this.tentative) {
      // The transferred state covers the tentative slot (it is at or above it) and replaces it.
      this.forgetTentative(this.tentative);
      this.tentative = undefined;
    }
    this.authorizing = undefined;
    this.membershipAt.clear();
    const missedChange = membership.epoch !== this.membership.epoch;
    const missedPending = membership.pending !== undefined && !this.membership.pending;
    this.membership = membership;
    if (missedChange) {
      // A change took effect that this replica did not follow: start over in the membership
      // the state holds, from this checkpoint.
      this.checkpoints.install(proof);
      this.lastExecuted = proof.seq;
      this.reconfigure(proof, out);
    } else if (missedPending) {
      // A change executed inside the fetched state: nothing above its boundary from now on
      // (if this is the boundary's state, the change takes effect just below).
      this.enforceBoundary();
    }
    this.lastExecuted = proof.seq;
    this.lastTime = Math.max(this.lastTime, time);
    this.recentReplies.clear(); // the session table in the snapshot answers retries now
    // Requests held for the timer may have executed inside the snapshot: forget them (clients
    // that still wait retransmit, and those are held again).
    this.waiting.clear();
    this.behindSince = undefined;
    this.garbageCollect(proof.seq);
    this.maybeTakeEffect(out);
    this.execute(out);
    this.releaseHeldReads(out);
  }

  // ---- request bodies ----------------------------------------------------------------------

  private fetchRequests(digests: readonly Digest[], from: ReplicaId | undefined, out: Out[]): void {
    if (this.ticks - this.lastFetchRequestsAt < this.settings.retransmitTicks) return;
    this.lastFetchRequestsAt = this.ticks;
    const targets = from !== undefined && from !== this.id ? [from] : this.others();
    for (const to of targets) {
      const msg: FetchRequests = makeFetchRequests(this.crypto, to, {
        replica: this.id,
        digests: digests.slice(0, 256),
      });
      this.send(to, msg, out);
    }
  }

  private onFetchRequests(from: ReplicaId, f: FetchRequests, out: Out[]): void {
    if (f.replica !== from) {
      this.drop("auth", "wrong-sender");
      return;
    }
    if (!verifyFetchRequests(this.crypto, f).ok) {
      this.drop("auth", "bad-mac");
      return;
    }
    for (const d of f.digests.slice(0, 256)) {
      const r = this.requests.get(d);
      if (r) this.send(from, r, out);
    }
  }

  /** A request body arrived (forwarded, fetched or separate): pre-prepares waiting on it may go on. */
  private retryAwaitingBodies(out: Out[]): void {
    for (const [seq, { pp, digest }] of [...this.awaitingBodies]) {
      const resolution = this.requests.resolve(pp.batch);
      if (resolution.status === "missing") continue;
      this.awaitingBodies.delete(seq);
      if (resolution.status === "refused") continue;
      if (pp.view === this.slots.view) this.acceptPrePrepare(pp, digest, out);
    }
  }

  // ---- view change -----------------------------------------------------------------------

  private startViewChange(
    view: number,
    out: Out[],
    cause: keyof PbftViewChangeCauses = "badProposal",
  ): void {
    if (view <= this.view) return;
    this.viewChangeCauses[cause]++;
    this.counters.viewChangesStarted++;
    this.consecutiveViewChanges++;
    this.own.clear();
    this.proposed.clear();
    this.view = view;
    this.slots.leaveView();
    this.batcher = this.newBatcher();
    this.awaitingBodies.clear();
    this.commitsAwaitingPersist.length = 0;
    this.changing = {
      view,
      since: undefined,
      timeout: viewChangeTimeout(
        this.settings.viewChangeTicks,
        this.consecutiveViewChanges - 1,
        this.settings.maxViewChangeTicks,
      ),
    };
    const id = this.persist([hardStateOp(view)], out);
    const vc = buildViewChange(
      this.crypto,
      this.id,
      view,
      this.checkpoints.stable,
      this.bug === "view-change-drops-certificates" ? [] : this.slots.preparedCertificates(),
    );
    this.viewChanges.set(this.id, vc);
    this.broadcast(vc, out, id);
    this.tryNewView(out);
  }

  private onViewChange(from: ReplicaId, vc: ViewChange, out: Out[]): void {
    if (vc.replica !== from) {
      this.drop("auth", "wrong-sender");
      return;
    }
    const m = this.membership;
    if (m.pending && vc.checkpoint.seq >= m.pending.boundary) {
      // The new members' view change: not one of ours, but its checkpoint proves the boundary.
      this.adoptProof(vc.checkpoint, out);
      return;
    }
    if (m.since > 0 && vc.checkpoint.seq < m.since) {
      // A replica still following the previous members: show it the boundary it has to cross.
      this.sendBoundaryProofs(from, out);
      return;
    }
    if (m.since > 0 && vc.view < this.view && this.slots.isActive && this.installedNewView) {
      // A member that joined (or crossed the boundary) late asks for a view we are past: the
      // NEW-VIEW that installed ours lets it catch up without waiting for the next view change.
      if (this.rateLimited(from)) return;
      this.send(from, this.installedNewView, out);
      return;
    }
    const known = this.viewChanges.get(from);
    if (known && known.view >= vc.view) {
      // A replica still asking for a view we installed: send it the NEW-VIEW again.
      if (vc.view === this.view && this.slots.isActive && this.installedNewView) {
        this.send(from, this.installedNewView, out);
      }
      return;
    }
    if (vc.view < this.view || (vc.view === this.view && this.slots.isActive)) {
      if (vc.view === this.view && this.installedNewView)
        this.send(from, this.installedNewView, out);
      return;
    }
    const valid = verifyViewChange(this.crypto, this.params, vc);
    if (!valid.ok) {
      this.drop("auth", valid.reason === "bad-signature" ? "bad-signature" : "bad-proof");
      return;
    }
    this.viewChanges.set(from, vc);
    // A stable checkpoint someone proved is one we can use (and fetch, if behind).
    if (vc.checkpoint.seq > this.checkpoints.stable.seq) this.onStable(vc.checkpoint, out);
    const requested = new Map<ReplicaId, number>();
    for (const [r, v] of this.viewChanges) requested.set(r, v.view);
    const join = viewToJoin(this.view, requested, this.q, this.id);
    if (join !== undefined) {
      this.startViewChange(join, out, "joined");
      return;
    }
    this.tryNewView(out);
  }

  /** The new primary: with 2f+1 view-changes for its view, compute and send NEW-VIEW. */
  private tryNewView(out: Out[]): void {
    if (this.slots.isActive || primaryOf(this.view, this.q.members) !== this.id) return;
    const vcs = [...this.viewChanges.values()].filter((v) => v.view === this.view);
    if (vcs.length < this.q.quorum) return;
    vcs.sort((a, b) => a.replica - b.replica);
    const chosen = vcs.slice(0, this.q.quorum);
    const planned = planNewView(this.crypto, this.params, this.view, chosen);
    if (!planned.ok) throw new Error(`invariant: NEW-VIEW plan failed (${planned.reason})`);
    let plan = planned.plan;
    if (this.bug === "new-primary-drops-prepared") {
      plan = {
        ...plan,
        batches: plan.batches.map((b) => ({ ...b, batch: { time: 0, requests: [] } })),
      };
    }
    const nv = buildNewView(this.crypto, this.id, plan, chosen);
    this.broadcast(nv, out);
    this.enterView(nv, plan, out);
  }

  private onNewView(nv: NewView, out: Out[]): void {
    if (nv.view < this.view || (nv.view === this.view && this.slots.isActive)) return;
    const pending = this.membership.pending;
    const across = pending && nv.viewChanges.find((vc) => vc.checkpoint.seq >= pending.boundary);
    if (across) {
      // The new members' view: its checkpoint proves the boundary (we join once we cross it).
      this.adoptProof(across.checkpoint, out);
      return;
    }
    let plan: NewViewPlan;
    if (this.bug === "new-view-not-recomputed") {
      const planned = planNewView(this.crypto, this.params, nv.view, nv.viewChanges);
      if (!planned.ok || nv.replica !== primaryOf(nv.view, this.q.members)) {
        this.drop("auth", "bad-proof");
        return;
      }
      plan = {
        ...planned.plan,
        batches: nv.prePrepares.map((pp) => ({ seq: pp.seq, batch: pp.batch })),
      };
    } else {
      const verdict = verifyNewView(this.crypto, this.params, nv);
      if (!verdict.ok) {
        this.drop("auth", verdict.reason === "bad-signature" ? "bad-signature" : "bad-proof");
        return;
      }
      plan = verdict.plan;
    }
    if (nv.view > this.view) {
      this.view = nv.view;
    }
    this.persist([hardStateOp(nv.view)], out);
    this.enterView(nv, plan, out);
  }

  private enterView(
    nv: NewView,
    plan: { readonly checkpoint: CheckpointProof; readonly maxS: number },
    out: Out[],
  ): void {
    this.settleTentative(nv, plan.checkpoint.seq, out);
    this.view = nv.view;
    this.viewEnteredTick = this.ticks;
    this.changing = undefined;
    this.counters.newViewsInstalled++;
    this.installedNewView = nv;
    this.slots.enterView(nv.view);
    for (const [r, vc] of [...this.viewChanges]) if (vc.view <= nv.view) this.viewChanges.delete(r);
    if (plan.checkpoint.seq > this.checkpoints.stable.seq) this.onStable(plan.checkpoint, out);
    const primary = primaryOf(nv.view, this.q.members) === this.id;
    const reissued = new Set<string>();
    for (const pp of nv.prePrepares) {
      for (const d of pp.batch.requests) reissued.add(toHex(d));
      if (pp.seq <= this.slots.lowWaterMark) continue;
      const digest = batchDigest(this.crypto, pp.batch);
      const step = this.slots.addPrePrepare(pp, digest);
      if (!step.accepted) continue;
      if (primary) {
        this.ownOf(pp.seq).prePrepare = pp;
        continue;
      }
      this.sendPrepare(pp, digest, out);
    }
    this.nextSeq = Math.max(plan.maxS, this.lastExecuted, this.slots.lowWaterMark) + 1;
    if (this.readOnlyBlocked) {
      this.readOnlyBlocked = false;
      this.readOnlyFloor = plan.maxS;
    }
    for (const w of this.waiting.values()) {
      w.since = this.ticks;
      if (primary && !reissued.has(toHex(w.digest))) this.enqueue(w.request, w.digest);
    }
    this.execute(out);
  }

  // ---- timers and retransmission ------------------------------------------------------------

  private onTick(out: Out[]): void {
    if (this.changing) {
      const c = this.changing;
      if (c.since === undefined) {
        let asking = 0;
        // This view or a later one: replicas that restarted may ask for different views, and
        // 2f+1 asking for at least this one all want the change to get this far.
        for (const vc of this.viewChanges.values()) if (vc.view >= c.view) asking++;
        if (asking >= this.q.quorum) c.since = this.ticks;
      } else if (this.ticks - c.since >= c.timeout) {
        this.startViewChange(c.view + 1, out, "viewChangeTimer");
      }
    } else if (!this.fetch) {
      // Backups suspect the primary (§4.4); the primary also gives up on a view in which its own
      // proposals do not execute in time (a lost commit it cannot recover, a replica that
      // forgot its vote in a crash), so the group is never stuck with one replica still waiting.
      // §4.4: the timer measures time without progress, restarting at each execution while
      // requests are still held, so a saturated group that executes steadily is not replaced
      // because its queue is long. One request may still wait at most maxRequestWaitTicks: a
      // primary that orders everyone's requests but one client's is replaced all the same.
      // A pending membership change must reach its boundary: no execution for a request
      // timeout while below it suspects the primary like a held request does. The new view's
      // primary gets a whole timeout too (counting from the last execution alone would abandon
      // every view at its first tick once a stall outlasted one timeout: seed 925, faulty client).
      const p = this.membership.pending;
      if (
        p &&
        this.lastExecuted < p.boundary &&
        this.ticks - Math.max(this.lastExecutedTick, this.viewEnteredTick) >=
          this.settings.requestTimeoutTicks
      ) {
        this.startViewChange(this.view + 1, out, "requestTimer");
      }
      for (const w of this.waiting.values()) {
        if (this.changing) break;
        const idle = this.ticks - Math.max(w.since, this.lastExecutedTick);
        if (
          idle >= this.settings.requestTimeoutTicks ||
          this.ticks - w.since >= this.settings.maxRequestWaitTicks
        ) {
          this.startViewChange(this.view + 1, out, "requestTimer");
          break;
        }
      }
    }
    if (
      !this.fetch &&
      this.behindSince !== undefined &&
      this.ticks - this.behindSince >= this.settings.retransmitTicks * 4 &&
      this.lastExecuted < this.checkpoints.stable.seq
    ) {
      this.startFetch(this.checkpoints.stable, out);
    }
    // A newer stable checkpoint supersedes the one being fetched: the replicas that had the old
    // state may have discarded it since, and nobody would ever answer.
    if (this.fetch && this.checkpoints.stable.seq > this.fetch.target.seq) {
      this.startFetch(this.checkpoints.stable, out);
    }
    if (this.fetch && this.ticks - this.fetch.requestedAt >= this.settings.retransmitTicks * 2) {
      this.fetch.rotate();
      this.requestChunk(out);
    }
    if (this.ticks % this.settings.retransmitTicks === 0) this.retransmit(out);
  }

  /**
   * Messages are lost; PBFT's normal case retransmits (TOCS §5.2). Every few ticks: own pre-
   * prepares, prepares and commits to the replicas whose commit for that seq we have not seen;
   * our VIEW-CHANGE while the view change lasts; our latest checkpoint until it is stable; and
   * requests for bodies we still miss.
   */
  private retransmit(out: Out[]): void {
    if (this.changing) {
      const vc = this.viewChanges.get(this.id);
      if (vc) this.broadcast(vc, out);
    } else if (this.slots.isActive) {
      // Per replica at most `retransmitSlots` slots a round: a replica that is down must not
      // make every round cost the whole window. Each round goes on after the last slot the
      // previous one resent to that replica (wrapping around), because one that never commits
      // (it abstains after a restart) would otherwise get the lowest slots again and again.
      const seqs = [...this.own.keys()].sort((a, b) => a - b);
      const committedBy = seqs.map((seq) => this.slots.committedBy(seq)); // once per round
      for (const to of this.others()) {
        const after = this.resentUpTo.get(to) ?? 0;
        let start = seqs.findIndex((seq) => seq > after);
        if (start < 0) start = 0;
        let used = 0;
        let last = after;
        for (let i = 0; i < seqs.length && used < retransmitSlots; i++) {
          const at = (start + i) % seqs.length;
          if (committedBy[at]!.has(to)) continue;
          const seq = seqs[at]!;
          used++;
          last = seq;
          this.resendSlot(to, seq, out);
        }
        this.resentUpTo.set(to, used === 0 ? 0 : last);
      }
    }
    if (this.ownCheckpoint) this.broadcast(this.ownCheckpoint, out);
    this.sendProofToLaggards(out);
    for (const { pp } of this.awaitingBodies.values()) {
      const resolution = this.requests.resolve(pp.batch);
      if (resolution.status === "missing") this.fetchRequests(resolution.digests, undefined, out);
    }
    if (this.slots.isCommittedLocal(this.lastExecuted + 1)) this.execute(out);
  }

  // ---- plumbing ----------------------------------------------------------------------------

  private ownOf(seq: number): { prePrepare?: PrePrepare; prepare?: Prepare; commit?: Commit } {
    let mine = this.own.get(seq);
    if (!mine) {
      mine = {};
      this.own.set(seq, mine);
    }
    return mine;
  }

  private others(): ReplicaId[] {
    const out: ReplicaId[] = [];
    for (const i of this.q.members) if (i !== this.id) out.push(i);
    return out;
  }

  private send(to: ReplicaId, msg: PbftReplicaMessage, out: Out[], after = 0): void {
    if (to === this.id) return;
    out.push({ type: "send", to, msg, after: Math.max(after, this.bootId) });
  }

  private broadcast(msg: PbftReplicaMessage, out: Out[], after = 0): void {
    for (const to of this.others()) this.send(to, msg, out, after);
  }

  /** A message dropped: the legacy drop counter, and its kind for the metrics (undefined: none). */
  private drop(legacy: keyof PbftDrops, kind: PbftRejectionKind | undefined): void {
    this.drops[legacy]++;
    if (kind !== undefined) this.counters.rejected[kind]++;
  }

  private persist(ops: PersistOp[], out: Out[]): number {
    const id = this.nextPersistId++;
    out.push({ type: "persist", id, ops });
    if (ops.some((op) => op.type === "hardState")) this.bootId = id;
    return id;
  }
}

/** How a reply is tentative: it waits for the persist of the batch's prepared certificate. */
type TentativeReply = { readonly after: number };

/** The snapshot meta of the empty state at seq 0 (no proof: it is never transferred). */
function genesisMeta(n: number): SnapshotMeta {
  return { index: 0, config: { n }, time: 0 };
}

/** Slots whose messages one retransmission round resends to one replica. */
const retransmitSlots = 8;

/**
 * Views per membership: membership k starts in view k · 2^16. Replicas of the old membership
 * that have not crossed the boundary yet may still change views among themselves (harmlessly:
 * they can order nothing above the boundary); they would need 2^16 view changes to reach a view
 * number the new members use, so one view never has two primaries.
 */
const membershipViewGap = 1 << 16;

/** Membership boundaries whose proof and state a replica keeps for replicas that must cross them. */
const keptBoundaries = 2;

/** Retransmission rounds between two stable-checkpoint proofs sent to one replica behind. */
const proofEveryRounds = 4;

/** Skew between correct replicas' clocks that the time invariant tolerates beyond the bound. */
const clockSkewMarginMs = 60_000;

/** Clients whose recent replies a replica keeps for retransmissions, and replies per client. */
const maxRememberedClients = 10_000;
const repliesPerClient = 32;

/**
 * Checkpoint 0 is the state every replica starts from; it is never transferred, so its digest
 * only has to be the same everywhere: the digest of no bytes.
 */
const genesisBytes = new Uint8Array(0);
