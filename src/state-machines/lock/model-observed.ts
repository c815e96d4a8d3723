import type { Value } from "../../core/value.js";
import { matchOutcomes, type Outcome } from "../shared/outcomes.js";
import { isValueRecord } from "../shared/values.js";
import { type LockModelState, mayBeFreeAt, mayBeLiveAt } from "./model-state.js";
import type { LockAcquire, LockRelease } from "./types.js";

/**
 * Steps for operations whose output is known. The output's `now` fixes the time the command
 * applied; given the time, the state machine is deterministic, so each step builds the results
 * it could have returned and keeps those equal to the output.
 */

/** The output's log time, if it has one that does not go back in time. */
function observedNow(s: LockModelState, output: Value): number | undefined {
  if (!isValueRecord(output)) return undefined;
  const now = output.now;
  return typeof now === "number" && Number.isFinite(now) && now >= s.minNow ? now : undefined;
}

/** An unknown expiry, read from an output: it must respect the bound we had. */
function revealedExpiry(s: LockModelState, output: Value): number | undefined {
  if (s.expiryKnown) return s.expiresAt;
  if (!isValueRecord(output)) return undefined;
  const shown = output.expiresAt;
  return typeof shown === "number" && Number.isFinite(shown) && shown >= s.expiresAt
    ? shown
    : undefined;
}

export function observedAcquire(
  s: LockModelState,
  cmd: LockAcquire,
  output: Value,
): LockModelState[] {
  const now = observedNow(s, output);
  if (now === undefined) return [];
  const expiresAt = now + cmd.ttlMs;
  const granted = (fencing: number): Outcome<LockModelState> => ({
    result: { ok: true, owner: cmd.owner, fencing, expiresAt, now },
    next: { holder: cmd.owner, fencing, expiresAt, expiryKnown: true, minNow: now },
  });
  const outcomes: Outcome<LockModelState>[] = [];
  // With an unknown expiry the holder may be renewing or re-acquiring after expiry; the
  // fencing token in the output tells which.
  if (s.holder === cmd.owner && mayBeLiveAt(s, now)) outcomes.push(granted(s.fencing));
  if (mayBeFreeAt(s, now)) outcomes.push(granted(s.fencing + 1));
  if (s.holder !== null && s.holder !== cmd.owner && mayBeLiveAt(s, now)) {
    const held = revealedExpiry(s, output);
    if (held !== undefined && now < held) {
      outcomes.push({
        result: { ok: false, holder: s.holder, expiresAt: held, now },
        next: { ...s, expiresAt: held, expiryKnown: true, minNow: now },
      });
    }
  }
  return matchOutcomes(outcomes, output);
}

export function observedRelease(
  s: LockModelState,
  cmd: LockRelease,
  output: Value,
): LockModelState[] {
  const now = observedNow(s, output);
  if (now === undefined) return [];
  const outcomes: Outcome<LockModelState>[] = [];
  if (s.holder === cmd.owner && mayBeLiveAt(s, now)) {
    outcomes.push({
      result: { ok: true, now },
      next: { holder: null, fencing: s.fencing, expiresAt: now, expiryKnown: true, minNow: now },
    });
  }
  // A refusal from an unknown expiry would also bound it from above (expiry <= now); the model
  // keeps only lower bounds, so it lets that knowledge go.
  if (s.holder !== cmd.owner || mayBeFreeAt(s, now)) {
    outcomes.push({ result: { ok: false, now }, next: { ...s, minNow: now } });
  }
  return matchOutcomes(outcomes, output);
}

/** A query shows the stored fields as they are; it carries no time. */
export function observedHolder(s: LockModelState, output: Value): LockModelState[] {
  const expiresAt = revealedExpiry(s, output);
  if (expiresAt === undefined) return [];
  return matchOutcomes(
    [
      {
        result: { holder: s.holder, expiresAt, fencing: s.fencing },
        next: s.expiryKnown ? s : { ...s, expiresAt, expiryKnown: true },
      },
    ],
    output,
  );
}
