import type { PersistOp } from "../core/protocol.js";
import { certSeqOf } from "../protocols/pbft/durable.js";
import { Histogram, type HistogramSnapshot } from "./prometheus.js";

/**
 * PBFT's per-phase latency at one replica, timed by the runtime from what the sans-IO core
 * receives and emits (the core has no clock). For each sequence number:
 * - `prepare`: pre-prepare sent (primary) or received (backup) → prepared (the core asks to
 *   persist the prepared certificate);
 * - `commit`: prepared → the replica's own COMMIT goes out (the certificate is durable);
 * - `execute`: own COMMIT out → the batch executed here (2f+1 commits, and every earlier seq).
 * Retransmissions do not restart a phase: the first time of each event counts.
 */
export const pbftPhases = ["prepare", "commit", "execute"] as const;
export type PbftPhase = (typeof pbftPhases)[number];

interface Times {
  prePrepared?: number;
  prepared?: number;
  committing?: number;
}

/** Sequence numbers followed at once: more than any window; the oldest go first. */
const maxTracked = 8192;

export class PbftPhaseLatency {
  private readonly histograms: Record<PbftPhase, Histogram> = {
    prepare: new Histogram(),
    commit: new Histogram(),
    execute: new Histogram(),
  };
  private readonly slots = new Map<number, Times>();
  private executed = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A replica message sent or received (pre-prepares and commits matter). */
  message(msg: unknown, sent: boolean): void {
    const m = msg as { type?: unknown; seq?: unknown };
    if (typeof m?.seq !== "number") return;
    if (m.type === "preprepare") {
      const t = this.slot(m.seq);
      if (t && t.prePrepared === undefined) t.prePrepared = this.now();
    } else if (m.type === "commit" && sent) {
      const t = this.slot(m.seq);
      if (t && t.committing === undefined) {
        t.committing = this.now();
        if (t.prepared !== undefined) this.observe("commit", t.committing - t.prepared);
      }
    }
  }

  /** A persist handed to storage: a prepared certificate marks its seq prepared. */
  persisting(ops: readonly PersistOp[]): void {
    for (const op of ops) {
      if (op.type !== "put") continue;
      const seq = certSeqOf(op.key);
      if (seq === undefined) continue;
      const t = this.slot(seq);
      if (!t || t.prepared !== undefined) continue;
      t.prepared = this.now();
      if (t.prePrepared !== undefined) this.observe("prepare", t.prepared - t.prePrepared);
    }
  }

  /** The batch at `seq` executed here. */
  executedAt(seq: number): void {
    this.executed = Math.max(this.executed, seq);
    const t = this.slots.get(seq);
    this.slots.delete(seq);
    if (t?.committing !== undefined) this.observe("execute", this.now() - t.committing);
  }

  snapshot(): Record<PbftPhase, HistogramSnapshot> {
    return {
      prepare: this.histograms.prepare.snapshot(),
      commit: this.histograms.commit.snapshot(),
      execute: this.histograms.execute.snapshot(),
    };
  }

  private slot(seq: number): Times | undefined {
    if (seq <= this.executed) return undefined;
    let t = this.slots.get(seq);
    if (!t) {
      if (this.slots.size >= maxTracked) this.slots.delete(this.slots.keys().next().value!);
      t = {};
      this.slots.set(seq, t);
    }
    return t;
  }

  private observe(phase: PbftPhase, ms: number): void {
    this.histograms[phase].observe(ms / 1000);
  }
}
