/**
 * Random histories for property tests. Each op is placed on its client's timeline (one op
 * outstanding per client), gets a linearization point strictly inside its interval, and its
 * output is what the sequential spec produces when ops are applied in point order, so the
 * history is linearizable by construction. Modes then optionally corrupt one output or replace
 * all outputs with random ones, to obtain a mix of verdicts.
 *
 * Times are small integers so that equal call/return times are frequent. Points live on a 10x
 * finer grid, strictly between call and return (exactly at the call for instantaneous ops), so
 * that coinciding times never let points contradict the documented real-time order.
 */
import fc from "fast-check";
import type { History, Model, Operation } from "../../src/model/history.js";
import {
  applyQueue,
  applyRegister,
  type CounterInput,
  type CounterOutput,
  type KvInput,
  type QueueInput,
  type QueueOutput,
  type RegisterInput,
  type RegisterOutput,
} from "./models.js";

export interface Spec<S, I, O> {
  /** Sequential semantics; `choice` resolves nondeterminism. */
  apply(state: S, input: I, choice: number): [S, O];
  init(): S;
  input: fc.Arbitrary<I>;
  /** Some output for `input`, right or wrong. */
  anyOutput(input: I, seed: number): O;
}

export type Mode = "linearizable" | "corrupted" | "random";

export interface HistoryShape {
  readonly maxOps: number;
  readonly clients: number;
  /** Percentage of ops that get no response. */
  readonly indeterminatePercent: number;
  readonly mode: Mode;
}

interface OpSeed<I> {
  readonly client: number;
  readonly gap: number;
  readonly duration: number;
  readonly point: number;
  readonly tie: number;
  readonly indeterminate: number;
  readonly takesEffect: boolean;
  readonly choice: number;
  readonly outputSeed: number;
  readonly input: I;
}

function build<S, I, O>(
  spec: Spec<S, I, O>,
  shape: HistoryShape,
  seeds: readonly OpSeed<I>[],
  corruptAt: number,
  corruptSeed: number,
): History<I, O> {
  const clientTime = new Array<number>(shape.clients).fill(0);
  const clientName = Array.from({ length: shape.clients }, (_, c) => `c${c}`);
  let crashes = 0;
  const drafts = seeds.map((seed, k) => {
    const c = seed.client;
    const call = (clientTime[c] ?? 0) + seed.gap;
    const client = clientName[c] ?? `c${c}`;
    const indeterminate = seed.indeterminate < shape.indeterminatePercent;
    let ret: number | undefined;
    let point: number | undefined;
    if (indeterminate) {
      // The process never hears back: later ops of this client come from a fresh process.
      clientName[c] = `c${c}.${++crashes}`;
      clientTime[c] = call;
      if (seed.takesEffect) point = 10 * call + 1 + (seed.point % 100);
    } else {
      ret = call + seed.duration;
      clientTime[c] = ret;
      point =
        seed.duration === 0 ? 10 * call : 10 * call + 1 + (seed.point % (10 * seed.duration - 1));
    }
    return { k, seed, client, call, ret, point };
  });

  const outputs = new Map<number, O>();
  const effective = drafts.filter((d) => d.point !== undefined);
  effective.sort((a, b) => (a.point ?? 0) - (b.point ?? 0) || a.seed.tie - b.seed.tie || a.k - b.k);
  let state = spec.init();
  for (const d of effective) {
    const [next, output] = spec.apply(state, d.seed.input, d.seed.choice);
    state = next;
    outputs.set(d.k, output);
  }

  return drafts.map((d): Operation<I, O> => {
    let output: O | undefined;
    if (d.ret !== undefined) {
      output = outputs.get(d.k);
      const wrong =
        shape.mode === "random" ||
        (shape.mode === "corrupted" && d.k === corruptAt % drafts.length);
      if (wrong) output = spec.anyOutput(d.seed.input, d.seed.outputSeed ^ corruptSeed);
    }
    return { id: d.k + 1, client: d.client, input: d.seed.input, call: d.call, ret: d.ret, output };
  });
}

export function historyArbitrary<S, I, O>(
  spec: Spec<S, I, O>,
  shape: HistoryShape,
): fc.Arbitrary<History<I, O>> {
  const seed: fc.Arbitrary<OpSeed<I>> = fc.record({
    client: fc.nat(shape.clients - 1),
    gap: fc.nat(3),
    duration: fc.nat(5),
    point: fc.nat(999),
    tie: fc.nat(),
    indeterminate: fc.nat(99),
    takesEffect: fc.boolean(),
    choice: fc.nat(),
    outputSeed: fc.nat(),
    input: spec.input,
  });
  return fc
    .tuple(fc.array(seed, { minLength: 1, maxLength: shape.maxOps }), fc.nat(), fc.nat())
    .map(([seeds, corruptAt, corruptSeed]) => build(spec, shape, seeds, corruptAt, corruptSeed));
}

const registerInput: fc.Arbitrary<RegisterInput> = fc.oneof(
  fc.constant<RegisterInput>({ kind: "read" }),
  fc.nat(2).map((value): RegisterInput => ({ kind: "write", value })),
  fc.tuple(fc.nat(2), fc.nat(2)).map(([from, to]): RegisterInput => ({ kind: "cas", from, to })),
);

function anyRegisterOutput(input: RegisterInput, seed: number): RegisterOutput {
  if (input.kind === "read") return seed % 3;
  return input.kind === "write" ? "ok" : seed % 2 === 0;
}

export const registerSpec: Spec<number, RegisterInput, RegisterOutput> = {
  init: () => 0,
  apply: (state, input) => applyRegister(state, input),
  input: registerInput,
  anyOutput: anyRegisterOutput,
};

export const bumpCounterSpec: Spec<number, CounterInput, CounterOutput> = {
  init: () => 0,
  apply: (state, input, choice) =>
    input.kind === "get" ? [state, state] : [state + 1 + (choice % 2), "ok"],
  input: fc.constantFrom<CounterInput>({ kind: "bump" }, { kind: "get" }),
  anyOutput: (input, seed) => (input.kind === "get" ? seed % 5 : "ok"),
};

export const queueSpec: Spec<readonly number[], QueueInput, QueueOutput> = {
  init: () => [],
  apply: (state, input) => applyQueue(state, input),
  input: fc.oneof(
    fc.nat(2).map((value): QueueInput => ({ kind: "enqueue", value })),
    fc.constant<QueueInput>({ kind: "dequeue" }),
  ),
  anyOutput: (input, seed) => {
    if (input.kind === "enqueue") return "ok";
    return seed % 4 === 3 ? "empty" : seed % 3;
  },
};

export function kvSpec(
  keys: readonly string[],
): Spec<ReadonlyMap<string, number>, KvInput, RegisterOutput> {
  return {
    init: () => new Map(),
    apply: (state, input) => {
      const [value, output] = applyRegister(state.get(input.key) ?? 0, input.op);
      return [new Map(state).set(input.key, value), output];
    },
    input: fc.record({ key: fc.constantFrom(...keys), op: registerInput }),
    anyOutput: (input, seed) => anyRegisterOutput(input.op, seed),
  };
}

/** A label for failing property runs: the history, one op per line. */
export function show<S, I, O>(model: Model<S, I, O>, history: History<I, O>): string {
  return history
    .map((op) => {
      const what = model.describe
        ? model.describe(op.input, op.output)
        : `${JSON.stringify(op.input)} -> ${JSON.stringify(op.output)}`;
      return `#${op.id} ${op.client} [${op.call}, ${op.ret ?? "-"}] ${what}`;
    })
    .join("\n");
}
