import { ARBITER_KEPT_EPOCHS, type ArbiterCommand, type ArbiterResult } from "./types.js";

/**
 * The arbiter's state, shared by the state machine and its model: the winner of each remembered
 * epoch, and the floor at or below which epochs are forgotten. Immutable steps would copy a map
 * per command, so the state machine mutates and the model clones.
 */
export class ArbiterWinners {
  constructor(
    readonly winners: Map<number, number> = new Map(),
    public floor = 0,
  ) {}

  clone(): ArbiterWinners {
    return new ArbiterWinners(new Map(this.winners), this.floor);
  }

  /** Applies one command and returns its result (deterministic; the only way state changes). */
  apply(cmd: ArbiterCommand): ArbiterResult {
    if (cmd.epoch <= this.floor) return { epoch: cmd.epoch, winner: null };
    const known = this.winners.get(cmd.epoch);
    if (known !== undefined || cmd.op === "winner")
      return { epoch: cmd.epoch, winner: known ?? null };
    this.winners.set(cmd.epoch, cmd.replica);
    if (this.winners.size > ARBITER_KEPT_EPOCHS) this.forgetOldest();
    return { epoch: cmd.epoch, winner: cmd.replica };
  }

  private forgetOldest(): void {
    let oldest = Number.POSITIVE_INFINITY;
    for (const epoch of this.winners.keys()) oldest = Math.min(oldest, epoch);
    this.winners.delete(oldest);
    this.floor = Math.max(this.floor, oldest);
  }

  /** Canonical text (model memoization): equal states give equal keys. */
  key(): string {
    const sorted = [...this.winners].sort((a, b) => a[0] - b[0]);
    return `${this.floor}|${sorted.map(([e, r]) => `${e}:${r}`).join(",")}`;
  }
}
