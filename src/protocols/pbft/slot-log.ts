import { equalBytes } from "../../core/crypto.js";
import type { ReplicaId } from "../../core/ids.js";
import type { Commit, Digest, PrePrepare, Prepare, PreparedCertificate } from "./messages.js";
import { isReplica, primaryOf, type Quorums } from "./quorum.js";

/**
 * The replica's message log for the normal case (OSDI'99 §4.2–§4.3): one slot per sequence number
 * inside the water marks (h, h+L], each collecting the pre-prepare, prepares and commits of the
 * current view. It decides `prepared` and `committed-local` and refuses what the rules forbid;
 * it does not authenticate (callers pass messages whose signatures and MACs they checked, with
 * the batch digest they computed) and never sends anything.
 */

/** Why a message was not taken into the log (a metrics label). */
export type SlotRefusal =
  /** seq ≤ h: already covered by a stable checkpoint. */
  | "below-window"
  /** seq > h + L: beyond the high water mark. */
  | "above-window"
  | "old-view"
  | "future-view"
  /** A PRE-PREPARE not from the view's primary. */
  | "not-primary"
  /** A PREPARE from the view's primary: its pre-prepare stands for its prepare. */
  | "from-primary"
  | "not-a-replica"
  /** A second PRE-PREPARE for (view, seq) with another digest: the primary equivocates. */
  | "conflicting-digest"
  /** A replica's second PREPARE/COMMIT for (view, seq) with another digest. */
  | "sender-equivocates"
  | "duplicate";

export type SlotStep =
  | {
      readonly accepted: true;
      /** This message made the slot prepared (send COMMIT; reply tentatively). */
      readonly nowPrepared: boolean;
      /** This message made the slot committed-local (execute in order). */
      readonly nowCommitted: boolean;
      /**
       * The pre-prepare replaced another one this replica had accepted for (view, seq), because
       * 2f+1 COMMITs certify its digest (see addPrePrepare). The replica must not PREPARE it.
       */
      readonly replaced?: boolean;
    }
  | { readonly accepted: false; readonly reason: SlotRefusal };

interface Slot {
  prePrepare: PrePrepare | undefined;
  digest: Digest | undefined;
  /** Prepares and commits of the current view, by sender; they may precede the pre-prepare. */
  readonly prepares: Map<ReplicaId, Prepare>;
  readonly commits: Map<ReplicaId, Commit>;
  prepared: boolean;
  committed: boolean;
  /** The certificate of the highest view in which this slot prepared; survives view changes. */
  certificate: PreparedCertificate | undefined;
}

export class SlotLog {
  private readonly slots = new Map<number, Slot>();
  /** Slots touched since the last assertInvariants. */
  private readonly changed = new Set<number>();
  private low: number;
  private currentView: number;
  private active = true;

  private ceiling = Number.POSITIVE_INFINITY;

  constructor(
    private readonly q: Quorums,
    /** L: how many sequence numbers above h are accepted. */
    readonly windowSize: number,
    options: { low?: number; view?: number } = {},
  ) {
    if (!Number.isInteger(windowSize) || windowSize < 1) {
      throw new RangeError(`window size must be a positive integer, got ${windowSize}`);
    }
    this.low = options.low ?? 0;
    this.currentView = options.view ?? 0;
  }

  /** h: the low water mark, the last stable checkpoint's sequence number. */
  get lowWaterMark(): number {
    return this.low;
  }

  /** H = h + L, or the membership boundary if that is lower (see setCeiling). */
  get highWaterMark(): number {
    return Math.min(this.low + this.windowSize, this.ceiling);
  }

  /**
   * No slot above `seq` is accepted until the ceiling is lifted: the boundary of a pending
   * membership change (membership.ts), above which the new members order. None can be held yet:
   * a change at s has its boundary at or above s + L, and nothing above h + L ≤ s − 1 + L was
   * accepted before s executed.
   */
  setCeiling(seq: number): void {
    for (const s of this.slots.keys()) {
      if (s > seq)
        throw new Error(`invariant: slot ${s} held above the membership boundary ${seq}`);
    }
    this.ceiling = seq;
  }

  get view(): number {
    return this.currentView;
  }

  /** Whether the replica takes normal-case messages of `view` (false between views). */
  get isActive(): boolean {
    return this.active;
  }

  /** Refusal for a sequence number outside (h, H], if any. */
  windowCheck(seq: number): SlotRefusal | undefined {
    if (seq <= this.low) return "below-window";
    if (seq > this.highWaterMark) return "above-window";
    return undefined;
  }

  addPrePrepare(pp: PrePrepare, digest: Digest): SlotStep {
    const refusal = this.common(pp.view, pp.seq, pp.replica);
    if (refusal) return refused(refusal);
    if (pp.replica !== primaryOf(pp.view, this.q.members)) return refused("not-primary");
    const slot = this.slot(pp.seq);
    if (slot.prePrepare) {
      if (equalBytes(slot.digest!, digest)) return refused("duplicate");
      // One digest per (view, seq): a correct backup never prepares two. But 2f+1 COMMITs for
      // this digest prove it committed (f+1 correct replicas prepared it), so a backup that took
      // a faulty primary's other pre-prepare adopts this one to execute it, without preparing it.
      if (!this.hasCommitQuorum(slot, digest)) return refused("conflicting-digest");
      if (slot.prepared) {
        throw new Error(
          `invariant: seq ${pp.seq} view ${pp.view}: prepared one digest, 2f+1 commits for another`,
        );
      }
      slot.prePrepare = { ...pp, inline: [] };
      slot.digest = digest;
      return { ...this.advance(slot), replaced: true };
    }
    slot.prePrepare = { ...pp, inline: [] };
    slot.digest = digest;
    return this.advance(slot);
  }

  /**
   * Whether 2f+1 distinct replicas sent COMMIT for `digest` at `seq` in this view: a commit
   * certificate, which proves the digest committed there.
   */
  isCommitCertified(seq: number, digest: Digest): boolean {
    const slot = this.slots.get(seq);
    return slot !== undefined && this.hasCommitQuorum(slot, digest);
  }

  addPrepare(p: Prepare): SlotStep {
    const refusal = this.common(p.view, p.seq, p.replica);
    if (refusal) return refused(refusal);
    if (p.replica === primaryOf(p.view, this.q.members)) return refused("from-primary");
    const slot = this.slot(p.seq);
    const earlier = slot.prepares.get(p.replica);
    if (earlier) {
      return refused(equalBytes(earlier.digest, p.digest) ? "duplicate" : "sender-equivocates");
    }
    slot.prepares.set(p.replica, p);
    return this.advance(slot);
  }

  addCommit(c: Commit): SlotStep {
    const refusal = this.common(c.view, c.seq, c.replica);
    if (refusal) return refused(refusal);
    const slot = this.slot(c.seq);
    const earlier = slot.commits.get(c.replica);
    if (earlier) {
      return refused(equalBytes(earlier.digest, c.digest) ? "duplicate" : "sender-equivocates");
    }
    slot.commits.set(c.replica, c);
    return this.advance(slot);
  }

  isPrepared(seq: number): boolean {
    return this.slots.get(seq)?.prepared ?? false;
  }

  isCommittedLocal(seq: number): boolean {
    return this.slots.get(seq)?.committed ?? false;
  }

  /** The accepted pre-prepare of the current view at `seq` (without inline requests). */
  prePrepareAt(seq: number): PrePrepare | undefined {
    return this.slots.get(seq)?.prePrepare;
  }

  digestAt(seq: number): Digest | undefined {
    return this.slots.get(seq)?.digest;
  }

  /**
   * The P set of a VIEW-CHANGE (OSDI'99 §4.4): for every seq above h that prepared here, the
   * certificate of the highest view, in seq order.
   */
  preparedCertificates(): PreparedCertificate[] {
    const out: { seq: number; cert: PreparedCertificate }[] = [];
    for (const [seq, slot] of this.slots) {
      if (slot.certificate) out.push({ seq, cert: slot.certificate });
    }
    return out.sort((a, b) => a.seq - b.seq).map((x) => x.cert);
  }

  /** Distinct replicas whose COMMIT matches the accepted digest at `seq` (current view). */
  matchingCommits(seq: number): number {
    const slot = this.slots.get(seq);
    return slot ? this.matching(slot.commits, slot) : 0;
  }

  /** The prepared certificate of the highest view held for `seq`. */
  certificateAt(seq: number): PreparedCertificate | undefined {
    return this.slots.get(seq)?.certificate;
  }

  /** Replicas whose COMMIT for `seq` in the current view is here (retransmit only to the others). */
  committedBy(seq: number): ReadonlySet<ReplicaId> {
    return new Set(this.slots.get(seq)?.commits.keys() ?? []);
  }

  /**
   * A prepared certificate read back from stable storage after a restart: it goes into the next
   * VIEW-CHANGE's P set (a request committed before the crash must survive the view change).
   * Ignored outside the window or below a certificate of a higher view already held.
   */
  restoreCertificate(cert: PreparedCertificate): void {
    const seq = cert.prePrepare.seq;
    if (this.windowCheck(seq) !== undefined) return;
    const slot = this.slot(seq);
    if (slot.certificate && slot.certificate.prePrepare.view >= cert.prePrepare.view) return;
    slot.certificate = cert;
  }

  /** The replica sent VIEW-CHANGE for a later view: it votes no more in this one (see common). */
  leaveView(): void {
    this.active = false;
  }

  /**
   * Enter `view` (after its NEW-VIEW is accepted, or view 0 at start): drop every current-view
   * message and keep only prepared certificates, then accept messages of `view`.
   */
  enterView(view: number): void {
    if (view < this.currentView) {
      throw new Error(`invariant: enterView(${view}) below view ${this.currentView}`);
    }
    for (const [seq, slot] of this.slots) {
      if (!slot.certificate) {
        this.slots.delete(seq);
        continue;
      }
      slot.prePrepare = undefined;
      slot.digest = undefined;
      slot.prepares.clear();
      slot.commits.clear();
      slot.prepared = false;
      slot.committed = false;
    }
    this.currentView = view;
    this.active = true;
  }

  /** A checkpoint at `seq` became stable: h moves up and every slot at or below it goes. */
  advanceLowWaterMark(seq: number): void {
    if (seq <= this.low) return;
    for (const s of this.slots.keys()) if (s <= seq) this.slots.delete(s);
    this.low = seq;
  }

  /** Number of slots held (bounded by L). */
  get size(): number {
    return this.slots.size;
  }

  /**
   * Checks the slots changed since the last call (the simulator calls this after every step, so
   * each change is checked once; a full pass every step would cost O(L) per message).
   */
  assertInvariants(): void {
    const changed = [...this.changed];
    this.changed.clear();
    for (const seq of changed) {
      const slot = this.slots.get(seq);
      if (!slot) continue;
      const where = `slot ${seq} (view ${this.currentView})`;
      if (seq <= this.low || seq > this.highWaterMark) throw new Error(`${where}: outside window`);
      if (slot.committed && !slot.prepared) throw new Error(`${where}: committed, not prepared`);
      if (slot.prepared && !slot.prePrepare) throw new Error(`${where}: prepared, no pre-prepare`);
      if (slot.prepared && this.matching(slot.prepares, slot) < this.q.prepares) {
        throw new Error(`${where}: prepared with too few prepares`);
      }
      if (slot.committed && this.matching(slot.commits, slot) < this.q.quorum) {
        throw new Error(`${where}: committed with too few commits`);
      }
    }
  }

  private common(view: number, seq: number, sender: ReplicaId): SlotRefusal | undefined {
    if (!isReplica(sender, this.q.members)) return "not-a-replica";
    if (view < this.currentView) return "old-view";
    if (view > this.currentView) return "future-view";
    // Between views (inactive) the log still takes the view it is leaving: a replica that timed
    // out alone (it was partitioned, say) while the others carry on in that view must still be
    // able to execute what they commit, or it stays behind until the next view change. The core
    // sends no PREPARE or COMMIT in a view it left (that would break its VIEW-CHANGE's promise);
    // executing a request that 2f+1 replicas committed is safe in any view.
    return this.windowCheck(seq);
  }

  private slot(seq: number): Slot {
    this.changed.add(seq);
    let slot = this.slots.get(seq);
    if (!slot) {
      slot = {
        prePrepare: undefined,
        digest: undefined,
        prepares: new Map(),
        commits: new Map(),
        prepared: false,
        committed: false,
        certificate: undefined,
      };
      this.slots.set(seq, slot);
    }
    return slot;
  }

  private hasCommitQuorum(slot: Slot, digest: Digest): boolean {
    let count = 0;
    for (const c of slot.commits.values()) if (equalBytes(c.digest, digest)) count++;
    return count >= this.q.quorum;
  }

  private matching(votes: ReadonlyMap<ReplicaId, { digest: Digest }>, slot: Slot): number {
    let count = 0;
    for (const v of votes.values()) if (slot.digest && equalBytes(v.digest, slot.digest)) count++;
    return count;
  }

  private advance(slot: Slot): SlotStep & { readonly accepted: true } {
    let nowPrepared = false;
    let nowCommitted = false;
    if (
      !slot.prepared &&
      slot.prePrepare &&
      this.matching(slot.prepares, slot) >= this.q.prepares
    ) {
      slot.prepared = true;
      nowPrepared = true;
      const prepares = [...slot.prepares.values()]
        .filter((p) => equalBytes(p.digest, slot.digest!))
        .sort((a, b) => a.replica - b.replica)
        .slice(0, this.q.prepares);
      slot.certificate = { prePrepare: slot.prePrepare, prepares };
    }
    if (slot.prepared && !slot.committed && this.matching(slot.commits, slot) >= this.q.quorum) {
      slot.committed = true;
      nowCommitted = true;
    }
    return { accepted: true, nowPrepared, nowCommitted };
  }
}

function refused(reason: SlotRefusal): SlotStep {
  return { accepted: false, reason };
}
