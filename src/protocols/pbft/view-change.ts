import { type Crypto, equalBytes } from "../../core/crypto.js";
import type { ReplicaId } from "../../core/ids.js";
import {
  signNewView,
  signPrePrepare,
  signViewChange,
  verifyNewViewSignature,
  verifyPrePrepare,
  verifyPrepare,
  verifyViewChangeSignature,
} from "./authenticator.js";
import { type CheckpointParams, verifyCheckpointProof } from "./checkpoints.js";
import type {
  Batch,
  CheckpointProof,
  Digest,
  NewView,
  PreparedCertificate,
  ViewChange,
} from "./messages.js";
import { distinctReplicas, isReplica, primaryOf } from "./quorum.js";
import { batchDigest, nullBatch } from "./signed-bytes.js";

/**
 * The view change of OSDI'99 §4.4 (signature variant): building and checking VIEW-CHANGE, the new
 * primary's NEW-VIEW computation, and the backups' check that recomputes it. Also the two timing
 * rules (§4.5.2): timeouts double on consecutive view changes, and f+1 view-changes for higher
 * views make a replica join. Pure functions; nothing here keeps state or sends.
 */

export interface ViewChangeParams extends CheckpointParams {
  /** L: prepared certificates lie in (checkpoint, checkpoint + L]. */
  readonly windowSize: number;
}

export type CertificateFailure =
  | "inline-requests"
  | "not-from-primary"
  | "bad-pre-prepare-signature"
  | "too-few-prepares"
  | "duplicate-or-unknown-prepare"
  | "prepare-from-primary"
  | "prepare-mismatch"
  | "bad-prepare-signature";

export type ViewChangeFailure =
  | "not-a-replica"
  | "view-zero"
  | "bad-signature"
  | "bad-checkpoint-proof"
  | "certificate-not-above-checkpoint"
  | "certificate-above-window"
  | "certificate-not-from-earlier-view"
  | "duplicate-certificate-seq"
  | `certificate-${CertificateFailure}`;

export type Verdict<F, T = object> =
  | ({ readonly ok: true } & T)
  | { readonly ok: false; readonly reason: F; readonly detail?: string };

/**
 * Internal validity of a prepared certificate: the pre-prepare signed by its view's primary, and
 * at least 2f prepares from distinct backups (never the primary), each signed and matching the
 * view, seq and batch digest. Returns the digest.
 */
export function verifyPreparedCertificate(
  crypto: Crypto,
  params: ViewChangeParams,
  cert: PreparedCertificate,
): Verdict<CertificateFailure, { readonly digest: Digest }> {
  const { members, prepares: needed } = params.quorums;
  const pp = cert.prePrepare;
  if (pp.inline.length > 0) return { ok: false, reason: "inline-requests" };
  if (pp.replica !== primaryOf(pp.view, members)) return { ok: false, reason: "not-from-primary" };
  const checked = verifyPrePrepare(crypto, pp);
  if (!checked.ok) return { ok: false, reason: "bad-pre-prepare-signature" };
  const count = distinctReplicas(
    cert.prepares.map((p) => p.replica),
    members,
  );
  if (count === undefined) return { ok: false, reason: "duplicate-or-unknown-prepare" };
  if (count < needed) return { ok: false, reason: "too-few-prepares" };
  for (const p of cert.prepares) {
    if (p.replica === pp.replica) return { ok: false, reason: "prepare-from-primary" };
    if (p.view !== pp.view || p.seq !== pp.seq || !equalBytes(p.digest, checked.digest)) {
      return { ok: false, reason: "prepare-mismatch" };
    }
  }
  for (const p of cert.prepares) {
    if (!verifyPrepare(crypto, p).ok) return { ok: false, reason: "bad-prepare-signature" };
  }
  return { ok: true, digest: checked.digest };
}

/** A VIEW-CHANGE for `view` carrying the stable checkpoint and the certificates above it. */
export function buildViewChange(
  crypto: Crypto,
  self: ReplicaId,
  view: number,
  checkpoint: CheckpointProof,
  prepared: readonly PreparedCertificate[],
): ViewChange {
  const above = prepared.filter((c) => c.prePrepare.seq > checkpoint.seq);
  return signViewChange(crypto, { view, replica: self, checkpoint, prepared: above });
}

/**
 * Everything a receiver checks in a VIEW-CHANGE: the sender's signature, the checkpoint proof, and
 * each prepared certificate (valid, from a view before the new one, inside the sender's window
 * above its checkpoint, at most one per seq).
 */
export function verifyViewChange(
  crypto: Crypto,
  params: ViewChangeParams,
  vc: ViewChange,
): Verdict<ViewChangeFailure> {
  if (!isReplica(vc.replica, params.quorums.members)) return { ok: false, reason: "not-a-replica" };
  if (vc.view === 0) return { ok: false, reason: "view-zero" };
  if (!verifyViewChangeSignature(crypto, vc).ok) return { ok: false, reason: "bad-signature" };
  const proof = verifyCheckpointProof(crypto, params, vc.checkpoint);
  if (!proof.ok) return { ok: false, reason: "bad-checkpoint-proof", detail: proof.reason };
  const low = vc.checkpoint.seq;
  const seqs = new Set<number>();
  for (const cert of vc.prepared) {
    const { seq, view } = cert.prePrepare;
    if (seq <= low) return { ok: false, reason: "certificate-not-above-checkpoint" };
    if (seq > low + params.windowSize) return { ok: false, reason: "certificate-above-window" };
    if (view >= vc.view) return { ok: false, reason: "certificate-not-from-earlier-view" };
    if (seqs.has(seq)) return { ok: false, reason: "duplicate-certificate-seq" };
    seqs.add(seq);
    const valid = verifyPreparedCertificate(crypto, params, cert);
    if (!valid.ok)
      return { ok: false, reason: `certificate-${valid.reason}`, detail: `seq ${seq}` };
  }
  return { ok: true };
}

/** What NEW-VIEW must contain, computed from the view-changes it carries. */
export interface NewViewPlan {
  readonly view: number;
  /** The latest stable checkpoint among the view-changes. */
  readonly checkpoint: CheckpointProof;
  readonly minS: number;
  /** The highest seq of any prepared certificate (minS when there is none above it). */
  readonly maxS: number;
  /** For every seq in (minS, maxS], in order: the batch to re-issue, or the null request. */
  readonly batches: readonly { readonly seq: number; readonly batch: Batch }[];
}

export type PlanFailure = "too-few-view-changes" | "duplicate-or-unknown-sender" | "wrong-view";

/**
 * The NEW-VIEW computation (OSDI'99 §4.4). min-s = the latest stable checkpoint in V; max-s = the
 * highest seq of a prepared certificate in V. For each n in (min-s, max-s]: the batch of the
 * certificate with the highest view for n (ties, impossible among valid certificates with at most
 * f faults, go to the smallest digest so every replica computes the same), or the null request.
 * `viewChanges` must each have passed verifyViewChange.
 */
export function planNewView(
  crypto: Crypto,
  params: ViewChangeParams,
  view: number,
  viewChanges: readonly ViewChange[],
): Verdict<PlanFailure, { readonly plan: NewViewPlan }> {
  const count = distinctReplicas(
    viewChanges.map((v) => v.replica),
    params.quorums.members,
  );
  if (count === undefined) return { ok: false, reason: "duplicate-or-unknown-sender" };
  if (count < params.quorums.quorum) return { ok: false, reason: "too-few-view-changes" };
  if (viewChanges.some((v) => v.view !== view)) return { ok: false, reason: "wrong-view" };

  let checkpoint = viewChanges[0]!.checkpoint;
  for (const v of viewChanges) if (v.checkpoint.seq > checkpoint.seq) checkpoint = v.checkpoint;
  const minS = checkpoint.seq;

  const chosen = new Map<number, { view: number; digest: Digest; batch: Batch }>();
  let maxS = minS;
  for (const v of viewChanges) {
    for (const cert of v.prepared) {
      const pp = cert.prePrepare;
      if (pp.seq <= minS) continue;
      maxS = Math.max(maxS, pp.seq);
      const digest = batchDigest(crypto, pp.batch);
      const best = chosen.get(pp.seq);
      if (
        !best ||
        pp.view > best.view ||
        (pp.view === best.view && compareBytes(digest, best.digest) < 0)
      ) {
        chosen.set(pp.seq, { view: pp.view, digest, batch: pp.batch });
      }
    }
  }
  const batches: { seq: number; batch: Batch }[] = [];
  for (let seq = minS + 1; seq <= maxS; seq++) {
    batches.push({ seq, batch: chosen.get(seq)?.batch ?? nullBatch });
  }
  return { ok: true, plan: { view, checkpoint, minS, maxS, batches } };
}

/** The new primary's NEW-VIEW: the plan's pre-prepares, each signed, and the whole signed. */
export function buildNewView(
  crypto: Crypto,
  self: ReplicaId,
  plan: NewViewPlan,
  viewChanges: readonly ViewChange[],
): NewView {
  const prePrepares = plan.batches.map((b) =>
    signPrePrepare(crypto, { view: plan.view, seq: b.seq, batch: b.batch, replica: self }),
  );
  return signNewView(crypto, { view: plan.view, replica: self, viewChanges, prePrepares });
}

export type NewViewFailure =
  | "not-primary"
  | "bad-signature"
  | `view-change-${ViewChangeFailure}`
  | PlanFailure
  /** O is not what the view-changes determine: a request dropped, added, reordered or altered. */
  | "pre-prepares-differ"
  | "pre-prepare-not-from-primary"
  | "pre-prepare-bad-signature";

/**
 * A backup's check of NEW-VIEW: from the new primary, signed, carrying 2f+1 valid view-changes
 * for this view from distinct replicas, and O exactly equal to what planNewView recomputes from
 * them (same seqs in order, same batch digests), each pre-prepare signed by the new primary.
 */
export function verifyNewView(
  crypto: Crypto,
  params: ViewChangeParams,
  nv: NewView,
): Verdict<NewViewFailure, { readonly plan: NewViewPlan }> {
  if (nv.replica !== primaryOf(nv.view, params.quorums.members)) {
    return { ok: false, reason: "not-primary" };
  }
  if (!verifyNewViewSignature(crypto, nv).ok) return { ok: false, reason: "bad-signature" };
  const planned = planNewView(crypto, params, nv.view, nv.viewChanges);
  if (!planned.ok) return planned;
  for (const vc of nv.viewChanges) {
    const valid = verifyViewChange(crypto, params, vc);
    if (!valid.ok) {
      return { ok: false, reason: `view-change-${valid.reason}`, detail: `from r${vc.replica}` };
    }
  }
  const { plan } = planned;
  if (nv.prePrepares.length !== plan.batches.length) {
    return { ok: false, reason: "pre-prepares-differ", detail: "count" };
  }
  for (let i = 0; i < plan.batches.length; i++) {
    const expected = plan.batches[i]!;
    const pp = nv.prePrepares[i]!;
    if (pp.view !== nv.view || pp.replica !== nv.replica || pp.inline.length > 0) {
      return { ok: false, reason: "pre-prepare-not-from-primary", detail: `seq ${pp.seq}` };
    }
    const checked = verifyPrePrepare(crypto, pp);
    if (!checked.ok) return { ok: false, reason: "pre-prepare-bad-signature" };
    if (
      pp.seq !== expected.seq ||
      !equalBytes(checked.digest, batchDigest(crypto, expected.batch))
    ) {
      return { ok: false, reason: "pre-prepares-differ", detail: `seq ${expected.seq}` };
    }
  }
  return { ok: true, plan };
}

/**
 * How long to wait for a view change to complete before moving to the next view (§4.5.2): the
 * base timeout doubled for each consecutive view change without a request executing, capped.
 */
export function viewChangeTimeout(base: number, consecutive: number, cap: number): number {
  if (consecutive < 0 || !Number.isInteger(consecutive)) {
    throw new RangeError(`consecutive view changes must be a natural number, got ${consecutive}`);
  }
  // Doubling stops once past the cap, so a long outage cannot overflow to Infinity.
  let timeout = base;
  for (let i = 0; i < consecutive && timeout < cap; i++) timeout *= 2;
  return Math.min(timeout, cap);
}

/**
 * The f+1 rule (§4.5.2): given the highest view each other replica asked for in a valid
 * VIEW-CHANGE, the view to join now, or undefined. f+1 senders include a correct one, so the
 * replica does not wait for its own timer. Among more than f+1 such senders, the answer is the
 * highest view that f+1 of them reached (the smallest view of the best f+1-set).
 */
export function viewToJoin(
  currentView: number,
  requested: ReadonlyMap<ReplicaId, number>,
  quorums: { readonly n: number; readonly weak: number; readonly members?: readonly ReplicaId[] },
  self: ReplicaId,
): number | undefined {
  const higher: number[] = [];
  const members = quorums.members ?? quorums.n;
  for (const [replica, view] of requested) {
    if (replica !== self && isReplica(replica, members) && view > currentView) higher.push(view);
  }
  higher.sort((a, b) => b - a);
  return higher[quorums.weak - 1];
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
