/** Longest owner name, in UTF-16 code units. */
export const LOCK_MAX_OWNER_LENGTH = 256;
/** Longest lease one acquire may ask for: a day. Leases are meant to be short and renewed. */
export const LOCK_MAX_TTL_MS = 86_400_000;

/** Ask for the lock for `ttlMs` from the command's log time; the current holder renews. */
export type LockAcquire = {
  readonly op: "acquire";
  readonly owner: string;
  readonly ttlMs: number;
};
/** Give the lock up; only the holder of an unexpired lease can. */
export type LockRelease = { readonly op: "release"; readonly owner: string };
export type LockCommand = LockAcquire | LockRelease;

/**
 * The lease is `owner`'s until `expiresAt` (leader time, ms). `fencing` grows with every new
 * grant and stays the same on renewal, so a resource guarded by the lock can refuse writes that
 * carry an older token than one it has seen. `now` is the log time of the command.
 */
export type LockGranted = {
  readonly ok: true;
  readonly owner: string;
  readonly fencing: number;
  readonly expiresAt: number;
  readonly now: number;
};
/** Someone else holds an unexpired lease. */
export type LockRefused = {
  readonly ok: false;
  readonly holder: string;
  readonly expiresAt: number;
  readonly now: number;
};
export type LockAcquireResult = LockGranted | LockRefused;
/** `ok` iff the caller held an unexpired lease, which is now gone. */
export type LockReleaseResult = { readonly ok: boolean; readonly now: number };
export type LockResult = LockAcquireResult | LockReleaseResult;

export type LockQuery = { readonly op: "holder" };
/**
 * The stored lease, as of the last command applied. A query has no log time, so it cannot say
 * whether the lease is still live: `holder` is the last grantee that has not released (null if
 * none), and the lease is live only while leader time < `expiresAt`. After a release
 * `expiresAt` is the release time. `fencing` is the last token granted (0: never granted).
 */
export type LockQueryResult = {
  readonly holder: string | null;
  readonly expiresAt: number;
  readonly fencing: number;
};
