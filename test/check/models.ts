/**
 * Small sequential specifications used only by the checker tests: a register (read / write /
 * compare-and-set), a counter whose "bump" is nondeterministic, a FIFO queue, and a key-value
 * store of registers that can be partitioned per key.
 */
import type { History, Model, Operation } from "../../src/model/history.js";

export type RegisterInput =
  | { readonly kind: "read" }
  | { readonly kind: "write"; readonly value: number }
  | { readonly kind: "cas"; readonly from: number; readonly to: number };
/** read -> the value, write -> "ok", cas -> whether it swapped. */
export type RegisterOutput = number | boolean | "ok";

/** The register's sequential semantics: next state and output. */
export function applyRegister(state: number, input: RegisterInput): [number, RegisterOutput] {
  switch (input.kind) {
    case "read":
      return [state, state];
    case "write":
      return [input.value, "ok"];
    case "cas":
      return state === input.from ? [input.to, true] : [state, false];
  }
}

function describeRegister(input: RegisterInput, output: RegisterOutput | undefined): string {
  const result = output === undefined ? "?" : String(output);
  switch (input.kind) {
    case "read":
      return `read() -> ${result}`;
    case "write":
      return `write(${input.value}) -> ${result}`;
    case "cas":
      return `cas(${input.from}, ${input.to}) -> ${result}`;
  }
}

/** Deterministic models all step the same way: compute, then compare with what was observed. */
function stepDeterministic<S, O>(next: S, produced: O, observed: O | undefined): readonly S[] {
  return observed === undefined || observed === produced ? [next] : [];
}

export const registerModel: Model<number, RegisterInput, RegisterOutput> = {
  name: "register",
  init: () => 0,
  step(state, input, output) {
    const [next, produced] = applyRegister(state, input);
    return stepDeterministic(next, produced, output);
  },
  key: (state) => String(state),
  describe: describeRegister,
};

export type CounterInput = { readonly kind: "bump" } | { readonly kind: "get" };
export type CounterOutput = number | "ok";

/** "bump" adds 1 or 2, the model does not say which: exercises branching on several states. */
export const bumpCounterModel: Model<number, CounterInput, CounterOutput> = {
  name: "bump-counter",
  init: () => 0,
  step(state, input, output) {
    if (input.kind === "get") return output === undefined || output === state ? [state] : [];
    return output === undefined || output === "ok" ? [state + 1, state + 2] : [];
  },
  key: (state) => String(state),
  describe: (input, output) =>
    input.kind === "get" ? `get() -> ${output ?? "?"}` : `bump() -> ${output ?? "?"}`,
};

export type QueueInput =
  | { readonly kind: "enqueue"; readonly value: number }
  | { readonly kind: "dequeue" };
/** dequeue -> the value, or "empty". */
export type QueueOutput = number | "ok" | "empty";

export function applyQueue(state: readonly number[], input: QueueInput): [number[], QueueOutput] {
  if (input.kind === "enqueue") return [[...state, input.value], "ok"];
  const [head, ...rest] = state;
  return head === undefined ? [[], "empty"] : [rest, head];
}

export const queueModel: Model<readonly number[], QueueInput, QueueOutput> = {
  name: "queue",
  init: () => [],
  step(state, input, output) {
    const [next, produced] = applyQueue(state, input);
    return stepDeterministic(next, produced, output);
  },
  key: (state) => state.join(","),
};

export interface KvInput {
  readonly key: string;
  readonly op: RegisterInput;
}
type KvState = ReadonlyMap<string, number>;

/** A map of registers (absent = 0). With `partitioned`, checked one key at a time. */
export function kvModel(partitioned: boolean): Model<KvState, KvInput, RegisterOutput> {
  const model: Model<KvState, KvInput, RegisterOutput> = {
    name: partitioned ? "kv (per key)" : "kv (whole)",
    init: () => new Map(),
    step(state, input, output) {
      const [value, produced] = applyRegister(state.get(input.key) ?? 0, input.op);
      const next = new Map(state);
      next.set(input.key, value);
      return stepDeterministic(next, produced, output);
    },
    key: (state) =>
      [...state]
        .filter(([, v]) => v !== 0)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}=${v}`)
        .join(";"),
    describe: (input, output) => `${input.key}.${describeRegister(input.op, output)}`,
  };
  if (!partitioned) return model;
  return {
    ...model,
    partition(history: History<KvInput, RegisterOutput>) {
      const byKey = new Map<string, Operation<KvInput, RegisterOutput>[]>();
      for (const op of history) {
        const ops = byKey.get(op.input.key) ?? [];
        ops.push(op);
        byKey.set(op.input.key, ops);
      }
      return [...byKey.values()];
    },
  };
}
