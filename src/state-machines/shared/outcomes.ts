import type { Value } from "../../core/value.js";
import { valueEquals } from "./values.js";

/** One way an operation can go: the result a client would see and the state it leaves. */
export interface Outcome<S> {
  readonly result: Value;
  readonly next: S;
}

/**
 * The model step shared by the example services: of the outcomes possible in a state, keep
 * those whose result equals what the client observed; an unknown output (`undefined`, the
 * operation timed out) keeps all of them.
 */
export function matchOutcomes<S>(outcomes: readonly Outcome<S>[], output: Value | undefined): S[] {
  const states: S[] = [];
  for (const outcome of outcomes) {
    if (output === undefined || valueEquals(outcome.result, output)) states.push(outcome.next);
  }
  return states;
}
