import { Sfc32 } from "./prng.js";
import type { ApplyContext, QueryContext } from "./state-machine.js";

/** The nondeterministic inputs the leader/primary fixes for one log entry. */
export interface EntryNondeterminism {
  /** Leader clock in milliseconds, never lower than the previous entry's. */
  readonly time: number;
  /** Seed for ctx.random(); a 32-bit unsigned integer. */
  readonly seed: number;
}

/** Builds the context for the command at `position` inside the entry at `index`. */
export function makeApplyContext(
  index: number,
  position: number,
  nondet: EntryNondeterminism,
): ApplyContext {
  let random: Sfc32 | undefined;
  return {
    index,
    position,
    now: () => nondet.time,
    random: () => {
      // Each command in a batch gets its own stream so that reordering inside a batch is visible
      // as a different result rather than silently sharing numbers.
      random ??= new Sfc32(nondet.seed * 4096 + position);
      return random.next();
    },
  };
}

/** The read-only context of a query answered at `index`, whose entry has agreed time `time`. */
export function makeQueryContext(index: number, time: number): QueryContext {
  return { index, now: () => time };
}
