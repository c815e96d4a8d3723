/**
 * The systematic crash sweep (`lockstep sim --crash-sweep`): instead of crashing at random, seed S
 * crashes one replica at exactly one boundary, enumerated from S. A boundary is a moment the
 * simulator hands a replica something: a peer message (receive, and the votes or acks it sends
 * in answer), a write becoming durable (persist, and what it releases), an external answer (the
 * arbiter's). The crash comes just before the replica takes it (it is lost with the process) or
 * just after (its answer is out, nothing later is), as a process crash or a machine crash (which
 * also loses writes not yet durable).
 *
 * Scenario s = S - 1: victim replica s mod 2 (the first primary and the first backup); when
 * (s / 2) mod 2 (before, after); crash kind (s / 4) mod 2 (process, machine); boundary number
 * k = s / 8 + 1 among the victim's boundaries, counted from the start of the run. So 1000 seeds
 * cover the first 125 boundaries of both replicas in all four ways.
 */
export interface CrashSweepPoint {
  readonly victim: number;
  readonly when: "before" | "after";
  readonly machine: boolean;
  readonly boundary: number;
}

export function crashSweepPoint(seed: number, replicas: number): CrashSweepPoint {
  if (!Number.isSafeInteger(seed) || seed < 1) throw new RangeError(`crash sweep seed ${seed}`);
  const s = seed - 1;
  return {
    victim: s % Math.min(2, replicas),
    when: Math.floor(s / 2) % 2 === 0 ? "before" : "after",
    machine: Math.floor(s / 4) % 2 === 1,
    boundary: Math.floor(s / 8) + 1,
  };
}

/** Counts the victim's boundaries and says when the sweep's one crash is due. */
export class CrashSweep {
  private seen = 0;
  private fired = false;

  constructor(readonly point: CrashSweepPoint) {}

  /** Called at each boundary of replica `id`; true exactly once, at the chosen one and time. */
  due(id: number, when: "before" | "after"): boolean {
    if (this.fired || id !== this.point.victim) return false;
    if (when === "before") this.seen++;
    if (this.seen !== this.point.boundary || when !== this.point.when) return false;
    this.fired = true;
    return true;
  }

  get crashed(): boolean {
    return this.fired;
  }
}
