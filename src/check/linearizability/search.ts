/**
 * The Wing & Gong search with Lowe's "just-in-time linearization" and memoization, for one
 * partition. Iterative (explicit stack), so history length is bounded by memory, not by the
 * call stack.
 *
 * Walking the event list from the head, the ops whose calls come before the first return are
 * exactly the ones that may be linearized next (everything before them has been linearized,
 * nothing they must follow is pending). Linearizing one lifts it out of the list and restarts
 * the walk; reaching a return means the op that returns there can no longer be placed, so the
 * last choice is undone. Nondeterministic models (several next states) and indeterminate ops
 * (every possible next state) branch within a single stack frame.
 *
 * Memoization: two search nodes with the same set of linearized ops and the same model state
 * have the same future, so each (set, state key) pair is explored once. The set is encoded
 * exactly, not hashed (a collision could prune an unexplored branch and turn a linearizable
 * history into a false violation): with ops numbered in call order and `watermark` = 1 + the
 * highest linearized index, the set is {0 .. watermark-1} minus the still-pending ops below the
 * watermark. Those pending ops are the calls at the front of the event list, so the encoding
 * costs O(ops concurrent with the frontier + indeterminate ops not yet placed), independent of
 * the history length.
 *
 * Indeterminate ops that would leave the state unchanged are never placed (see tryLinearize):
 * "never took effect" dominates them, and placing them would multiply refutations.
 *
 * Limits are counts (steps, memoized configurations), checked every iteration, so where the
 * search gives up depends only on its input; the optional deadline is the one exception and is
 * off unless a caller sets it. When every completed op is placed, the stack is the witness.
 *
 * Typed-array reads use `!`: every index comes from the list itself and is in range.
 */
import type { Model, Operation } from "../../model/history.js";
import { type EventList, HEAD, lift, NIL, unlift } from "./entries.js";
import { ShardedStringSet } from "./memo.js";

export interface SearchLimits {
  /** Loop iterations (each tries one candidate or undoes one choice) past which the search gives up. */
  readonly maxSteps: number;
  /** Memoized configurations past which the search gives up (bounds memory). */
  readonly maxVisited: number;
  /** Optional performance.now() value past which the search gives up; undefined = no clock. */
  readonly deadline: number | undefined;
}

export type UnknownReason = "steps" | "visited" | "deadline";

export type SearchOutcome<S, I, O> =
  | {
      readonly kind: "ok";
      readonly visited: number;
      readonly steps: number;
      /** The linearization found: op ids in order (indeterminate ops left out never took effect). */
      readonly order: number[];
    }
  | {
      readonly kind: "unknown";
      readonly visited: number;
      readonly steps: number;
      readonly reason: UnknownReason;
    }
  | {
      readonly kind: "violation";
      readonly visited: number;
      readonly steps: number;
      /** Longest linearizable prefix found, in linearization order. */
      readonly linearized: Operation<I, O>[];
      /** Candidates that all failed right after that prefix. */
      readonly stuckAt: Operation<I, O>[];
      /** Model state after the prefix. */
      readonly state: S;
    };

/** With a deadline, how often (in steps) to read the clock: performance.now() is not free. */
const CLOCK_EVERY = 4096;

export function searchLinearization<S, I, O>(
  model: Model<S, I, O>,
  list: EventList<I, O>,
  limits: SearchLimits,
): SearchOutcome<S, I, O> {
  const { ops, next, opOf, isCall, matchOf } = list;
  const seen = new ShardedStringSet();

  let state = model.init();
  let stateKey = model.key(state);
  let watermark = 0;
  let remaining = list.completed;

  // The stack, as parallel arrays indexed by depth.
  let depth = 0;
  const frameCall: number[] = [];
  const framePrevState: S[] = [];
  const framePrevStateKey: string[] = [];
  const framePrevWatermark: number[] = [];
  const frameAlternatives: (readonly S[])[] = [];
  const frameNextAlternative: number[] = [];
  const frameSetKey: string[] = [];

  // Per op: a state key in which the op is known to be a useless indeterminate no-op (below).
  const noOpIn: (string | undefined)[] = [];

  // The deepest dead end, for the counterexample. `bestOrder` is updated incrementally: the
  // first `stableDepth` frames have not been popped since it was last written.
  let bestDepth = -1;
  const bestOrder: number[] = [];
  let stableDepth = 0;
  let bestState = state;
  let bestStuck: number[] = [];

  /** Exact encoding of the linearized set once op `adding` is linearized too. */
  const setKeyWith = (adding: number): string => {
    const mark = adding >= watermark ? adding + 1 : watermark;
    let key = String(mark);
    for (let e = next[HEAD]!; e !== NIL; e = next[e]!) {
      if (isCall[e] === 0) continue;
      const i = opOf[e]!;
      if (i >= mark) break; // calls are in index order: no pending op below the mark remains
      if (i !== adding) key += "," + i;
    }
    return key;
  };

  /**
   * Linearize the op at `call` into the first unexplored alternative from `from` on.
   * The set key is computed on first need unless known (on retries it is the frame's).
   */
  const tryLinearize = (
    call: number,
    alternatives: readonly S[],
    from: number,
    knownSetKey: string | undefined,
  ): boolean => {
    const i = opOf[call]!;
    // An indeterminate op that leaves the state unchanged is never worth placing: leaving it
    // out ("never took effect") keeps every later option open and every state equal. This
    // matters for refutations, where placing e.g. timed-out reads would multiply the search.
    const indeterminate = matchOf[call] === NIL;
    let unchanged = 0;
    let setKey = knownSetKey;
    for (let k = from; k < alternatives.length; k++) {
      const after = alternatives[k]!;
      const afterKey = model.key(after);
      if (indeterminate && afterKey === stateKey) {
        unchanged++;
        continue;
      }
      if (setKey === undefined) setKey = setKeyWith(i);
      const memo = setKey + "|" + afterKey;
      if (seen.has(memo)) continue;
      seen.addNew(memo);
      frameCall[depth] = call;
      framePrevState[depth] = state;
      framePrevStateKey[depth] = stateKey;
      framePrevWatermark[depth] = watermark;
      frameAlternatives[depth] = alternatives;
      frameNextAlternative[depth] = k + 1;
      frameSetKey[depth] = setKey;
      depth++;
      state = after;
      stateKey = afterKey;
      if (i >= watermark) watermark = i + 1;
      lift(list, call);
      if (matchOf[call] !== NIL) remaining--;
      return true;
    }
    if (unchanged === alternatives.length) noOpIn[i] = stateKey;
    return false;
  };

  const noteDeadEnd = (): void => {
    if (depth <= bestDepth) return;
    bestOrder.length = stableDepth;
    for (let d = stableDepth; d < depth; d++) bestOrder.push(opOf[frameCall[d]!]!);
    stableDepth = depth;
    bestDepth = depth;
    bestState = state;
    bestStuck = [];
    for (let e = next[HEAD]!; e !== NIL && isCall[e] === 1; e = next[e]!) bestStuck.push(opOf[e]!);
  };

  let entry = next[HEAD]!;
  let steps = 0;
  const { maxSteps, maxVisited, deadline } = limits;
  for (;;) {
    // Every op that responded is placed; indeterminate ones left over "never happened".
    if (remaining === 0) {
      const order: number[] = new Array(depth);
      for (let d = 0; d < depth; d++) order[d] = ops[opOf[frameCall[d]!]!]!.id;
      return { kind: "ok", visited: seen.size, steps, order };
    }
    // The budget is counted in steps, not time, so a verdict is the same on every machine.
    if (steps >= maxSteps) return { kind: "unknown", visited: seen.size, steps, reason: "steps" };
    steps++;
    if (seen.size > maxVisited) {
      return { kind: "unknown", visited: seen.size, steps, reason: "visited" };
    }
    if (deadline !== undefined && steps % CLOCK_EVERY === 0 && performance.now() > deadline) {
      return { kind: "unknown", visited: seen.size, steps, reason: "deadline" };
    }

    if (entry !== NIL && isCall[entry] === 1) {
      const i = opOf[entry]!;
      // Pending no-ops stay in the list for good; remembering them keeps each walk cheap.
      if (noOpIn[i] === stateKey) {
        entry = next[entry]!;
        continue;
      }
      const op = ops[i]!;
      const alternatives = model.step(state, op.input, op.output);
      entry =
        alternatives.length > 0 && tryLinearize(entry, alternatives, 0, undefined)
          ? next[HEAD]!
          : next[entry]!;
      continue;
    }

    // A pending return (NIL cannot happen while a completed op is pending, but would mean
    // the same thing): the op returning here cannot be placed after the current prefix.
    noteDeadEnd();
    if (depth === 0) {
      return {
        kind: "violation",
        visited: seen.size,
        steps,
        linearized: bestOrder.map((i) => ops[i]!),
        stuckAt: bestStuck.map((i) => ops[i]!),
        state: bestState,
      };
    }
    depth--;
    const call = frameCall[depth]!;
    state = framePrevState[depth]!;
    stateKey = framePrevStateKey[depth]!;
    watermark = framePrevWatermark[depth]!;
    unlift(list, call);
    if (matchOf[call] !== NIL) remaining++;
    if (depth < stableDepth) stableDepth = depth;
    entry = tryLinearize(
      call,
      frameAlternatives[depth]!,
      frameNextAlternative[depth]!,
      frameSetKey[depth]!,
    )
      ? next[HEAD]!
      : next[call]!;
  }
}
