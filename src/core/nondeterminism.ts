import type { EntryNondeterminism } from "./apply-context.js";
import { encode } from "./codec.js";
import type { Crypto } from "./crypto.js";

/**
 * Nondeterminism a primary proposes and the other replicas check (Castro & Liskov, PBFT §4.6).
 *
 * Crash-fault leaders (Raft) stamp `time` and `seed` themselves and are trusted. A Byzantine
 * primary could instead choose `ctx.random()` for every command, or push `time` far ahead so
 * that the session table expires every client session. So:
 *
 * - the primary proposes a time (`proposeTime`: its clock, never below the previous entry's),
 *   and each backup accepts it only if `checkProposedTime` holds against its own clock: not
 *   below the previous entry's time, and at most `maxAheadMs` ahead of the backup's clock.
 *   With 2f+1 replicas needed to prepare an entry, at least f+1 correct ones checked it, so
 *   log time never runs ahead of correct clocks by more than the bound;
 * - the seed is not proposed at all: every replica derives it (`deriveSeed`) from data the
 *   primary cannot choose freely once the batch is fixed (view, sequence number, batch digest).
 *   The primary can still grind batch contents to steer the seed; services needing
 *   unpredictable randomness need a threshold coin, which is out of scope here.
 */

/** Why a proposed time was refused; the protocol decides what follows (PBFT: view change). */
export type TimeCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: "before-previous" | "too-far-ahead" | "not-an-integer" };

/** The primary's proposal: its clock, but never below the previous entry's time. */
export function proposeTime(previous: number, localClock: number): number {
  return Math.max(previous, Math.floor(localClock));
}

/**
 * A backup's check of the primary's proposed time against the previous entry's time and its
 * own clock (ms). `maxAheadMs` bounds clock skew plus message delay between correct replicas.
 */
export function checkProposedTime(
  proposed: number,
  previous: number,
  localClock: number,
  maxAheadMs: number,
): TimeCheck {
  if (!Number.isSafeInteger(proposed) || proposed < 0)
    return { ok: false, reason: "not-an-integer" };
  if (proposed < previous) return { ok: false, reason: "before-previous" };
  if (proposed > localClock + maxAheadMs) return { ok: false, reason: "too-far-ahead" };
  return { ok: true };
}

/** What the seed of an entry is derived from: all fixed once the primary proposed the batch. */
export interface SeedSource {
  /** PBFT view, P/B epoch. */
  readonly view: number;
  /** The entry's sequence number / log index. */
  readonly seq: number;
  /** Digest of the batch (the requests, in order). */
  readonly batchDigest: Uint8Array;
}

/** A 32-bit seed for ctx.random() from a hash of view, sequence number and batch digest. */
export function deriveSeed(crypto: Crypto, source: SeedSource): number {
  const digest = crypto.digest(
    encode(["lockstep-seed", source.view, source.seq, source.batchDigest]),
  );
  return ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
}

/**
 * A backup's whole check of a proposal: the time against the bounds, and the seed against the
 * one it derives itself. The protocol carries the proposal in its pre-prepare (or entry).
 */
export function checkProposal(
  crypto: Crypto,
  proposal: EntryNondeterminism,
  source: SeedSource,
  previousTime: number,
  localClock: number,
  maxAheadMs: number,
): TimeCheck | { readonly ok: false; readonly reason: "wrong-seed" } {
  const time = checkProposedTime(proposal.time, previousTime, localClock, maxAheadMs);
  if (!time.ok) return time;
  if (proposal.seed !== deriveSeed(crypto, source)) return { ok: false, reason: "wrong-seed" };
  return { ok: true };
}
