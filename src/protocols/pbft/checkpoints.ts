import { type Crypto, equalBytes } from "../../core/crypto.js";
import type { ReplicaId } from "../../core/ids.js";
import { verifyCheckpoint } from "./authenticator.js";
import type { Checkpoint, CheckpointProof, Digest } from "./messages.js";
import { distinctReplicas, isReplica, type Quorums } from "./quorum.js";

/**
 * Checkpoints and their proofs (OSDI'99 §4.3): every K sequence numbers each replica signs a
 * CHECKPOINT with its state digest; 2f+1 matching ones from distinct replicas make the checkpoint
 * stable, and that set is the proof other replicas verify (in VIEW-CHANGE and state transfer).
 * The stable checkpoint's seq is the low water mark h.
 */

/** The checkpoint every replica starts from: seq 0, the initial state's digest, no signatures. */
export function genesisCheckpoint(stateDigest: Digest): CheckpointProof {
  return { seq: 0, stateDigest, proof: [] };
}

export interface CheckpointParams {
  readonly quorums: Quorums;
  /** K: a checkpoint is taken at every multiple of K. */
  readonly interval: number;
  /** The initial state's digest, which every replica knows (checkpoint seq 0). */
  readonly genesisDigest: Digest;
  /**
   * After a membership change (membership.ts): the boundary checkpoint these members took over
   * at, signed by the previous members with their quorum. Proofs below it belong to an earlier
   * membership and are refused.
   */
  readonly since?: { readonly seq: number; readonly quorums: Quorums };
  /** A pending change's boundary: proofs above it belong to members not yet in effect. */
  readonly ceiling?: number;
}

export type CheckpointProofFailure =
  | "not-a-checkpoint-seq"
  | "genesis-mismatch"
  | "too-few"
  | "duplicate-or-unknown-signer"
  | "mismatch"
  | "bad-signature"
  | "other-membership";

export type ProofCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: CheckpointProofFailure };

/**
 * Checks a proof someone forwarded: a quorum of CHECKPOINTs from distinct replicas, every one for
 * exactly this seq and digest, every signature valid. Seq 0 needs no signatures but must name the
 * genesis digest.
 */
export function verifyCheckpointProof(
  crypto: Crypto,
  params: CheckpointParams,
  proof: CheckpointProof,
): ProofCheck {
  const since = params.since;
  if ((since && proof.seq < since.seq) || proof.seq > (params.ceiling ?? proof.seq)) {
    return { ok: false, reason: "other-membership" };
  }
  if (proof.seq === 0) {
    return equalBytes(proof.stateDigest, params.genesisDigest)
      ? { ok: true }
      : { ok: false, reason: "genesis-mismatch" };
  }
  if (proof.seq % params.interval !== 0) return { ok: false, reason: "not-a-checkpoint-seq" };
  const { members, quorum } =
    since && proof.seq === since.seq && since.seq > 0 ? since.quorums : params.quorums;
  const signers = distinctReplicas(
    proof.proof.map((c) => c.replica),
    members,
  );
  if (signers === undefined) return { ok: false, reason: "duplicate-or-unknown-signer" };
  if (signers < quorum) return { ok: false, reason: "too-few" };
  for (const c of proof.proof) {
    if (c.seq !== proof.seq || !equalBytes(c.stateDigest, proof.stateDigest)) {
      return { ok: false, reason: "mismatch" };
    }
  }
  for (const c of proof.proof) {
    if (!verifyCheckpoint(crypto, c).ok) return { ok: false, reason: "bad-signature" };
  }
  return { ok: true };
}

export type CheckpointRefusal =
  | "not-a-checkpoint-seq"
  | "not-a-replica"
  /** At or below the stable checkpoint: nothing left to decide. */
  | "stale"
  | "duplicate"
  /** The sender already has `maxPerReplica` newer checkpoints pending; this older one is not kept. */
  | "superseded"
  /** The same replica signed two digests for one seq. */
  | "sender-equivocates"
  /** Above a pending membership change's boundary: for members not yet in effect. */
  | "beyond-boundary";

export type CheckpointStep =
  | { readonly accepted: true; readonly nowStable: CheckpointProof | undefined }
  | { readonly accepted: false; readonly reason: CheckpointRefusal };

/**
 * Collects CHECKPOINT messages (whose signatures the caller verified) until 2f+1 match. Memory is
 * bounded: per replica at most `maxPerReplica` pending checkpoints, the lowest dropped first.
 * A checkpoint far above the replica's own execution still becomes stable here; the caller sees
 * `stable.seq` beyond what it executed and fetches the state.
 */
export class CheckpointCollector {
  private current: CheckpointProof;
  /** seq → replica → message. */
  private readonly pending = new Map<number, Map<ReplicaId, Checkpoint>>();
  private readonly perReplica = new Map<ReplicaId, number[]>();
  private ceiling = Number.POSITIVE_INFINITY;

  constructor(
    private readonly params: CheckpointParams,
    private readonly maxPerReplica: number,
    stable: CheckpointProof = genesisCheckpoint(params.genesisDigest),
  ) {
    this.current = stable;
  }

  get stable(): CheckpointProof {
    return this.current;
  }

  /** Refuse checkpoints above a pending membership change's boundary (see SlotLog.setCeiling). */
  setCeiling(seq: number): void {
    this.ceiling = seq;
    for (const s of [...this.pending.keys()]) if (s > seq) this.pending.delete(s);
    for (const [replica, seqs] of this.perReplica) {
      this.perReplica.set(
        replica,
        seqs.filter((x) => x <= seq),
      );
    }
  }

  isCheckpointSeq(seq: number): boolean {
    return seq > 0 && seq % this.params.interval === 0;
  }

  add(c: Checkpoint): CheckpointStep {
    if (!isReplica(c.replica, this.params.quorums.members)) return refuse("not-a-replica");
    if (!this.isCheckpointSeq(c.seq)) return refuse("not-a-checkpoint-seq");
    if (c.seq <= this.current.seq) return refuse("stale");
    if (c.seq > this.ceiling) return refuse("beyond-boundary");
    let bySender = this.pending.get(c.seq);
    const earlier = bySender?.get(c.replica);
    if (earlier) {
      return refuse(
        equalBytes(earlier.stateDigest, c.stateDigest) ? "duplicate" : "sender-equivocates",
      );
    }
    const held = this.perReplica.get(c.replica) ?? [];
    if (held.length >= this.maxPerReplica && c.seq < held[0]!) return refuse("superseded");
    if (!bySender) {
      bySender = new Map();
      this.pending.set(c.seq, bySender);
    }
    bySender.set(c.replica, c);
    this.remember(c.replica, c.seq);

    const matching = [...bySender.values()]
      .filter((m) => equalBytes(m.stateDigest, c.stateDigest))
      .sort((a, b) => a.replica - b.replica);
    if (matching.length < this.params.quorums.quorum)
      return { accepted: true, nowStable: undefined };
    const proof: CheckpointProof = {
      seq: c.seq,
      stateDigest: c.stateDigest,
      proof: matching.slice(0, this.params.quorums.quorum),
    };
    this.install(proof);
    return { accepted: true, nowStable: proof };
  }

  /** Adopt a stable checkpoint proved elsewhere (from a NEW-VIEW or state transfer, verified). */
  install(proof: CheckpointProof): void {
    if (proof.seq <= this.current.seq) return;
    this.current = proof;
    for (const seq of this.pending.keys()) if (seq <= proof.seq) this.pending.delete(seq);
    for (const [replica, seqs] of this.perReplica) {
      this.perReplica.set(
        replica,
        seqs.filter((s) => s > proof.seq),
      );
    }
  }

  /**
   * The highest seq that at least f+1 replicas (so at least one correct one) have checkpointed
   * above the stable one, or undefined. A replica whose own execution is far below this has fallen
   * behind and should fetch state rather than wait.
   */
  weaklyCertifiedAhead(): number | undefined {
    const highest: number[] = [];
    for (const seqs of this.perReplica.values())
      if (seqs.length > 0) highest.push(Math.max(...seqs));
    highest.sort((a, b) => b - a);
    return highest[this.params.quorums.weak - 1];
  }

  /** Pending messages held (bounded by n · maxPerReplica). */
  get size(): number {
    let total = 0;
    for (const m of this.pending.values()) total += m.size;
    return total;
  }

  private remember(replica: ReplicaId, seq: number): void {
    const seqs = this.perReplica.get(replica) ?? [];
    seqs.push(seq);
    seqs.sort((a, b) => a - b);
    while (seqs.length > this.maxPerReplica) {
      const dropped = seqs.shift()!;
      const bySender = this.pending.get(dropped);
      bySender?.delete(replica);
      if (bySender?.size === 0) this.pending.delete(dropped);
    }
    this.perReplica.set(replica, seqs);
  }
}

function refuse(reason: CheckpointRefusal): CheckpointStep {
  return { accepted: false, reason };
}
