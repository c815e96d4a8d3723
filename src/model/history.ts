/**
 * The vocabulary shared by everything that records or checks client histories:
 * what a client saw (operations), and what the service promised (a sequential model).
 */

/** One client operation as a client observed it. Times are in any monotonic unit (the simulator uses virtual microseconds). */
export interface Operation<I, O> {
  /** Unique within a history. */
  readonly id: number;
  /** The process that issued it (a process has at most one op outstanding). */
  readonly client: string;
  readonly input: I;
  /** Invocation time. */
  readonly call: number;
  /** Response time; undefined = indeterminate (timed out / never answered): it may or may not have taken effect, at any time after `call`. */
  readonly ret: number | undefined;
  /**
   * What the client saw; undefined = unknown outcome. Write unknown outcomes with `ret`
   * undefined too: the checker reads a returned operation with an undefined output as
   * indeterminate (it may still take effect after the reply), so a void result is a value such
   * as null, not undefined.
   */
  readonly output: O | undefined;
}

export type History<I, O> = readonly Operation<I, O>[];

/** A sequential specification. Must be pure. */
export interface Model<S, I, O> {
  readonly name: string;
  init(): S;
  /** Possible next states after applying `input` in `state` such that the result equals `output`.
   *  `output === undefined` means the result is unknown, and the checker passes it only for
   *  indeterminate ops (it normalizes the two ways of writing one): return every possible next state.
   *  Empty array = this output is impossible in this state. Deterministic models return 0 or 1 states. */
  step(state: S, input: I, output: O | undefined): readonly S[];
  /** Canonical string of a state, used for memoization: equal states must give equal keys. */
  key(state: S): string;
  /** P-compositionality: split a history into independent sub-histories (for a key-value store: one per key). Optional; default is one partition. */
  partition?(history: History<I, O>): History<I, O>[];
  /** Human-readable op for counterexamples. */
  describe?(input: I, output: O | undefined): string;
}
