/**
 * What the lock model knows. The state machine's own state is exact; the model's is exact too
 * as long as every output is known, because each acquire and release output carries the log
 * time `now`. An operation whose output is unknown also hides its time, and two fields then
 * become bounds instead of values:
 *
 * - `expiresAt` is exact when `expiryKnown`, otherwise only a lower bound (the lease was taken
 *   or released at some unknown time at or after a known one). The next output that shows it
 *   (a refused acquire, a holder query) makes it exact again.
 * - `minNow` is a lower bound on the log time of every later command: the last time observed,
 *   or more when a branch implies it (a lease that was found expired means time had reached its
 *   expiry). Leader time never decreases along the log, so an output with `now < minNow` is
 *   impossible.
 *
 * Upper bounds on time are not tracked (see model.ts).
 */
export interface LockModelState {
  readonly holder: string | null;
  /** Last fencing token granted, 0 before the first grant. Always exact: each branch fixes it. */
  readonly fencing: number;
  readonly expiresAt: number;
  readonly expiryKnown: boolean;
  readonly minNow: number;
}

/** Leader clocks are taken to be non-negative (milliseconds since some epoch, or since start). */
export const INITIAL_LOCK_STATE: LockModelState = {
  holder: null,
  fencing: 0,
  expiresAt: 0,
  expiryKnown: true,
  minNow: 0,
};

export function lockStateKey(s: LockModelState): string {
  return JSON.stringify([s.holder, s.fencing, s.expiresAt, s.expiryKnown, s.minNow]);
}

/** Could the stored lease be live at time t? (An unknown expiry could be arbitrarily late.) */
export function mayBeLiveAt(s: LockModelState, t: number): boolean {
  return s.holder !== null && (!s.expiryKnown || t < s.expiresAt);
}

/** Could the lock be free at time t? (An unknown expiry could be as early as its bound.) */
export function mayBeFreeAt(s: LockModelState, t: number): boolean {
  return s.holder === null || t >= s.expiresAt;
}

/** Could the lease be live at some time a later command may have (any t >= minNow)? */
export function mayBeLiveLater(s: LockModelState): boolean {
  return mayBeLiveAt(s, s.minNow);
}

/** The earliest time a later command could find the lock free. */
export function earliestFree(s: LockModelState): number {
  return s.holder === null ? s.minNow : Math.max(s.minNow, s.expiresAt);
}
