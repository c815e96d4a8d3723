import { type Crypto, equalBytes, type Principal, toHex } from "../../core/crypto.js";
import type { AuthFailure } from "./authenticator.js";
import type { SlotRefusal } from "./slot-log.js";

/**
 * What a PBFT replica counts for its metrics (issue #13): cryptographic work, batches,
 * checkpoints, view changes, and the messages it rejected by kind. Plain numbers in the core's
 * status details; the runtime turns them into Prometheus counters (rates come from Prometheus).
 * Counting is sans-IO: the core increments, nothing here reads a clock.
 */

/** Why a replica message or request was rejected (the `kind` label of the rejection counter). */
export const pbftRejectionKinds = [
  /** An Ed25519 signature (request, pre-prepare, prepare, checkpoint, view change) that does not verify. */
  "bad-signature",
  /** A MAC or MAC-authenticator entry that does not verify, or is missing for this replica. */
  "bad-mac",
  /** A message naming another replica than the authenticated link it came on. */
  "wrong-sender",
  /** A view change, new view or certificate whose proofs do not hold. */
  "bad-proof",
  /** Not a well-formed operation, or larger than any batch may be. */
  "malformed",
  /** Outside the water marks (h, h + L]. */
  "outside-window",
  /** For another view than this replica's, or sent while it changes view. */
  "wrong-view",
  /** A pre-prepare from a replica that is not the view's primary (or a prepare from the primary). */
  "not-primary",
  /** A second, different message for one (view, seq) from one sender. */
  "equivocation",
  /** A proposed time outside the bound of this replica's clock (§4.6). */
  "bad-time",
  /** A batch naming requests the rules refuse (duplicates, read-only requests). */
  "bad-batch",
  /** A request refused because the queue of waiting requests is full. */
  "busy",
  /** From a replica outside the membership, or sent to a spare (PbftSettings.members). */
  "not-a-member",
] as const;

export type PbftRejectionKind = (typeof pbftRejectionKinds)[number];

/** Upper bounds of the batch-size histogram's buckets (requests per executed batch). */
export const batchSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256] as const;

export interface PbftCounters {
  signaturesComputed: number;
  signaturesVerified: number;
  macsComputed: number;
  macsVerified: number;
  digestsComputed: number;
  /** Batches this replica executed (the null batches of a view change included), and their requests. */
  batchesExecuted: number;
  requestsExecuted: number;
  /** Executed batches by size: `batchSizeCounts[i]` counts sizes ≤ batchSizeBuckets[i] (not cumulative). */
  batchSizeCounts: number[];
  /** Batches this replica proposed as primary. */
  batchesProposed: number;
  checkpointsStable: number;
  viewChangesStarted: number;
  newViewsInstalled: number;
  /**
   * Pre-prepares taken in place of another one accepted for the same (view, seq), because 2f+1
   * COMMITs certified them: each one is a faulty primary's equivocation this replica survived.
   */
  adoptedCommitted: number;
  /** Batches executed tentatively (prepared, not yet committed; §5.1.2). */
  tentativeExecutions: number;
  /** Tentative executions undone because a view change bound their slot to another batch. */
  tentativeRollbacks: number;
  /** Membership changes that took effect here (their boundary checkpoint became stable). */
  membershipChanges: number;
  /** Signature checks answered from the verified-signature memory (no Ed25519 work). */
  signaturesRemembered: number;
  rejected: Record<PbftRejectionKind, number>;
}

export function emptyPbftCounters(): PbftCounters {
  const rejected = {} as Record<PbftRejectionKind, number>;
  for (const kind of pbftRejectionKinds) rejected[kind] = 0;
  return {
    signaturesComputed: 0,
    signaturesVerified: 0,
    macsComputed: 0,
    macsVerified: 0,
    digestsComputed: 0,
    batchesExecuted: 0,
    requestsExecuted: 0,
    batchSizeCounts: batchSizeBuckets.map(() => 0),
    batchesProposed: 0,
    checkpointsStable: 0,
    viewChangesStarted: 0,
    newViewsInstalled: 0,
    adoptedCommitted: 0,
    tentativeExecutions: 0,
    tentativeRollbacks: 0,
    membershipChanges: 0,
    signaturesRemembered: 0,
    rejected,
  };
}

/** Counts one executed batch of `size` requests. */
export function countBatch(c: PbftCounters, size: number): void {
  c.batchesExecuted++;
  c.requestsExecuted += size;
  let i = batchSizeBuckets.findIndex((b) => size <= b);
  if (i < 0) i = batchSizeBuckets.length - 1;
  c.batchSizeCounts[i]!++;
}

/** The rejection kind of an authentication failure. */
export function authRejection(reason: AuthFailure): PbftRejectionKind {
  return reason === "bad-signature" ? "bad-signature" : "bad-mac";
}

/** The rejection kind of a slot-log refusal; undefined for duplicates (retransmissions, not faults). */
export function slotRejection(reason: SlotRefusal): PbftRejectionKind | undefined {
  switch (reason) {
    case "below-window":
    case "above-window":
      return "outside-window";
    case "old-view":
    case "future-view":
      return "wrong-view";
    case "not-primary":
    case "from-primary":
      return "not-primary";
    case "not-a-replica":
      return "not-a-member";
    case "conflicting-digest":
    case "sender-equivocates":
      return "equivocation";
    case "duplicate":
      return undefined;
  }
}

/** Verified signatures remembered by VerifyingCrypto: enough for a window of certificates and retries. */
const rememberedSignatures = 16_384;

/**
 * The core's Crypto: counts every operation into `counters` (MACs and signatures are the
 * protocol's main CPU cost; the metrics show how many each op needs), and remembers signatures
 * that verified. PBFT checks one signature many times: a request when it arrives, again inline in
 * the pre-prepare and on every retry; a prepare when it arrives, again in the prepared
 * certificate and in every VIEW-CHANGE and NEW-VIEW that carries it. An Ed25519 check costs
 * ~70 µs; a second check of the same (signer, signed digest, signature) returns what the first
 * did, so it is answered from memory. Only successes are kept (a forgery is checked, and
 * counted, every time). A remembered answer is for the exact bytes and signature checked before:
 * those were signed with the key the signer had then. A later rotation or revocation of a
 * client's key does not make them unsigned, and it is not enforced here: a revocation is an
 * ordered access change, which the replicated access table applies at its index, and a rotated
 * key's old signatures only replay requests the session table already answers. The memory is
 * deterministic (insertion order, fixed size), so simulator runs replay exactly.
 */
export class VerifyingCrypto implements Crypto {
  private readonly verified = new Map<string, Uint8Array>();

  constructor(
    private readonly inner: Crypto,
    private readonly counters: PbftCounters,
    /**
     * This node's principal: what it signs is remembered as verified under it, so its own
     * PRE-PREPARE or PREPARE inside the certificate it checks before committing (and in its
     * VIEW-CHANGE) costs no Ed25519 check: one per slot and replica.
     */
    private readonly self?: Principal,
  ) {}

  digest(data: Uint8Array): Uint8Array {
    this.counters.digestsComputed++;
    return this.inner.digest(data);
  }

  mac(peer: Principal, data: Uint8Array): Uint8Array {
    this.counters.macsComputed++;
    return this.inner.mac(peer, data);
  }

  verifyMac(peer: Principal, data: Uint8Array, tag: Uint8Array): boolean {
    this.counters.macsVerified++;
    return this.inner.verifyMac(peer, data, tag);
  }

  sign(data: Uint8Array): Uint8Array {
    this.counters.signaturesComputed++;
    const signature = this.inner.sign(data);
    if (this.self !== undefined) this.remember(`${this.self}/${toHex(signature)}`, data);
    return signature;
  }

  private remember(key: string, data: Uint8Array): void {
    if (this.verified.size >= rememberedSignatures) {
      // Oldest first: the map iterates in insertion order.
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(key, data.slice());
  }

  verify(signer: Principal, data: Uint8Array, signature: Uint8Array): boolean {
    const key = `${signer}/${toHex(signature)}`;
    const known = this.verified.get(key);
    if (known !== undefined && equalBytes(known, data)) {
      this.counters.signaturesRemembered++;
      return true;
    }
    this.counters.signaturesVerified++;
    if (!this.inner.verify(signer, data, signature)) return false;
    this.remember(key, data);
    return true;
  }
}
