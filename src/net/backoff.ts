/**
 * Reconnect delays: exponential from `initialMs`, capped at `maxMs`, with "equal jitter" (a
 * delay d becomes a uniform draw from [d/2, d]) so replicas restarting together do not redial
 * in lockstep.
 */
export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly factor?: number;
  /** Uniform in [0, 1); Math.random by default. */
  readonly random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 50;
    this.maxMs = options.maxMs ?? 5_000;
    this.factor = options.factor ?? 2;
    this.random = options.random ?? Math.random;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs) || !(this.factor >= 1)) {
      throw new RangeError("backoff needs 0 < initialMs ≤ maxMs and factor ≥ 1");
    }
  }

  /** The delay before the next attempt; each call lengthens the following one. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    if (ceiling < this.maxMs) this.attempt++;
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }

  /** After a success: start again from initialMs. */
  reset(): void {
    this.attempt = 0;
  }
}
