import type { Crypto } from "../../core/crypto.js";
import type { Digest } from "./messages.js";
import { seedBytes } from "./signed-bytes.js";

/**
 * Nondeterministic inputs agreed with the batch (OSDI'99 §4.6; BASE, TOCS §6): the primary
 * proposes a time in the batch, backups check it before preparing, and the random seed is
 * derived from what the sequence number is bound to rather than chosen by the primary.
 *
 * PBFT-local on purpose: the contract work may add a protocol-neutral "validated nondeterminism"
 * hook to src/core; these rules are what PBFT will plug into it.
 */

export type TimeRefusal =
  /** Earlier than the previous batch's time: time would run backwards for the service. */
  | "before-previous"
  /** Later than this backup's clock plus the bound: a primary pushing time forward (e.g. to expire every session). */
  | "too-far-ahead";

export type TimeCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: TimeRefusal };

/** The primary's proposal: its clock, but never below the previous batch's time. */
export function proposeTime(localClock: number, previous: number): number {
  return Math.max(Math.floor(localClock), previous);
}

/**
 * A backup accepts `proposed` iff previous ≤ proposed ≤ localClock + bound. A refusal means the
 * backup does not prepare the batch, so a primary that insists ends up replaced by a view change.
 * The lower side is only `previous`: a slow primary clock is harmless to safety and bounded by
 * the backups' own view-change timers.
 */
export function checkProposedTime(
  proposed: number,
  previous: number,
  localClock: number,
  bound: number,
): TimeCheck {
  if (proposed < previous) return { ok: false, reason: "before-previous" };
  if (proposed > localClock + bound) return { ok: false, reason: "too-far-ahead" };
  return { ok: true };
}

/**
 * The seed for ctx.random() in the batch at `seq`: the first 32 bits (big-endian) of
 * SHA-256(domain ‖ 0e ‖ u64 seq ‖ batch digest). It deliberately leaves out the view: a batch
 * re-issued by a new primary at the same seq (NEW-VIEW) must execute with the same seed at the
 * replicas that executed it in the earlier view. The primary can still try several batch orders
 * or times to pick among seeds (grinding); unpredictable randomness would need a threshold
 * signature from the replicas, which PBFT does not have.
 */
export function seedFor(crypto: Crypto, seq: number, digest: Digest): number {
  const h = crypto.digest(seedBytes(seq, digest));
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}
