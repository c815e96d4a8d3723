/**
 * When `lockstep up` restarts a replica that exited on its own. Pure bookkeeping, one tracker per
 * replica, so the policy can be tested without processes.
 */
export const restartPolicy = {
  /** Delay before the first restart; it doubles up to maxDelayMs. */
  firstDelayMs: 500,
  maxDelayMs: 10_000,
  /** A run at least this long resets the delay to firstDelayMs. */
  resetAfterMs: 30_000,
  /** An exit this soon after the start counts as a failed start. */
  failedStartMs: 10_000,
  /** This many failed starts in a row is a crash loop: stop trying. */
  maxFailedStarts: 5,
} as const;

/** Exit code of a replica refusing its arguments (replica-main): restarting cannot help. */
export const usageExitCode = 2;

export type RestartDecision =
  | { readonly kind: "restart"; readonly delayMs: number }
  | { readonly kind: "give up"; readonly reason: string };

export class RestartTracker {
  private delayMs: number = restartPolicy.firstDelayMs;
  private failedStarts = 0;

  /** Decides what to do about an exit after the replica ran `ranMs`. */
  onExit(ranMs: number, code: number | null): RestartDecision {
    if (code === usageExitCode) {
      return { kind: "give up", reason: "usage or configuration error; not restarting" };
    }
    if (ranMs >= restartPolicy.resetAfterMs) this.delayMs = restartPolicy.firstDelayMs;
    this.failedStarts = ranMs < restartPolicy.failedStartMs ? this.failedStarts + 1 : 0;
    if (this.failedStarts >= restartPolicy.maxFailedStarts) {
      return {
        kind: "give up",
        reason: `crash loop: failed ${this.failedStarts} times in a row within ${restartPolicy.failedStartMs / 1000} s of starting; giving up`,
      };
    }
    const delayMs = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, restartPolicy.maxDelayMs);
    return { kind: "restart", delayMs };
  }
}
