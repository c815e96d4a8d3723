import { earliestFree, type LockModelState, mayBeLiveLater } from "./model-state.js";
import type { LockAcquire, LockRelease } from "./types.js";

/**
 * Steps for operations whose output is unknown (the client timed out). The command applied at
 * some log time t >= minNow that nobody saw, so every outcome possible for some such t is a
 * branch, and times that depend on t become lower bounds. Whether it applied at all is the
 * checker's business (it may place the operation last, where it affects nothing).
 */

export function unobservedAcquire(s: LockModelState, cmd: LockAcquire): LockModelState[] {
  const states: LockModelState[] = [];
  // Renewed: the holder's lease was still live at t >= minNow; the new expiry is t + ttl.
  if (s.holder === cmd.owner && mayBeLiveLater(s)) {
    states.push({
      holder: cmd.owner,
      fencing: s.fencing,
      expiresAt: s.minNow + cmd.ttlMs,
      expiryKnown: false,
      minNow: s.minNow,
    });
  }
  // Newly granted: always possible, since t may be late enough for any lease to have run out;
  // then t is at least the earliest time the lock could be free, and so is every later command.
  const from = earliestFree(s);
  states.push({
    holder: cmd.owner,
    fencing: s.fencing + 1,
    expiresAt: from + cmd.ttlMs,
    expiryKnown: false,
    minNow: from,
  });
  // Refused: someone else's lease was still live at t; nothing changes.
  if (s.holder !== null && s.holder !== cmd.owner && mayBeLiveLater(s)) states.push(s);
  return states;
}

export function unobservedRelease(s: LockModelState, cmd: LockRelease): LockModelState[] {
  const states: LockModelState[] = [];
  // Released at t >= minNow while the lease was live; the stored expiry becomes t.
  if (s.holder === cmd.owner && mayBeLiveLater(s)) {
    states.push({
      holder: null,
      fencing: s.fencing,
      expiresAt: s.minNow,
      expiryKnown: false,
      minNow: s.minNow,
    });
  }
  // Did nothing: always possible. If the caller holds the lock, that means its lease had run
  // out, so t (and every later command's time) had reached the expiry.
  states.push(s.holder === cmd.owner ? { ...s, minNow: Math.max(s.minNow, s.expiresAt) } : s);
  return states;
}
