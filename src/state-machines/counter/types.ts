/**
 * Largest |delta| one add may carry. The counter stays a safe integer (exact in a double);
 * bounding deltas keeps a single command from jumping to the edge of that range.
 */
export const COUNTER_MAX_DELTA = 2 ** 32;

export type CounterAdd = { readonly op: "add"; readonly delta: number };
export type CounterRead = { readonly op: "read" };
export type CounterCommand = CounterAdd | CounterRead;

/** The value after the command (after the add, for an add). */
export type CounterValue = { readonly value: number };
/**
 * An add that would leave the safe-integer range is refused and changes nothing; `value` is the
 * unchanged counter. Only reachable after billions of large adds, but a replica must not
 * silently lose precision (and then disagree with a model that does exact arithmetic).
 */
export type CounterOverflow = { readonly value: number; readonly error: "overflow" };
export type CounterResult = CounterValue | CounterOverflow;

export type CounterQuery = CounterRead;
export type CounterQueryResult = CounterValue;
