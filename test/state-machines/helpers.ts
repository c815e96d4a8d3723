import fc from "fast-check";
import { makeApplyContext, makeQueryContext } from "../../src/core/apply-context.js";
import {
  type AnyServiceDefinition,
  createMachine,
  type StateMachine,
} from "../../src/core/state-machine.js";
import type { Value } from "../../src/core/value.js";
import type { Model } from "../../src/model/history.js";
import type { ClientOperation } from "../../src/state-machines/service-kit.js";
import { isValueArray, isValueRecord } from "../../src/state-machines/shared/values.js";

/** One operation as a sequential client saw it; `time` is the leader time of its log entry. */
export interface Step {
  readonly input: ClientOperation;
  readonly output: Value | undefined;
}

export interface Timed {
  readonly op: ClientOperation;
  readonly time: number;
}

type AnyMachine = StateMachine<Value, Value, Value, Value>;

/** Runs operations one by one, each command in its own log entry at the given time. */
export function runSequentially(
  definition: AnyServiceDefinition,
  ops: readonly Timed[],
  machine: AnyMachine = createMachine(definition),
): Step[] {
  let index = 0;
  return ops.map(({ op, time }) => {
    if (op.kind === "query") {
      if (machine.query === undefined) throw new Error("no query support");
      return { input: op, output: machine.query(op.value, makeQueryContext(0, 0)) };
    }
    index++;
    const ctx = makeApplyContext(index, 0, { time, seed: index });
    return { input: op, output: machine.apply(op.value, ctx) };
  });
}

/**
 * Feeds steps to a model in order, as the checker would along one linearization. Returns the
 * index of the first step no state accepts (-1 if all are accepted) and the surviving states.
 */
export function runModel<S>(
  model: Model<S, ClientOperation, Value>,
  steps: readonly Step[],
): { readonly rejectedAt: number; readonly states: S[] } {
  let states: S[] = [model.init()];
  for (let i = 0; i < steps.length; i++) {
    const { input, output } = steps[i]!;
    const next = new Map<string, S>();
    for (const state of states) {
      for (const s of model.step(state, input, output)) next.set(model.key(s), s);
    }
    if (next.size === 0) return { rejectedAt: i, states: [] };
    states = [...next.values()];
  }
  return { rejectedAt: -1, states };
}

/** Leaf paths of a result object that a mutation may change. */
export function leafPaths(v: Value, skip: readonly string[] = []): string[][] {
  if (isValueRecord(v)) {
    return Object.keys(v)
      .filter((k) => !skip.includes(k))
      .flatMap((k) => leafPaths(v[k]!, skip).map((p) => [k, ...p]));
  }
  if (isValueArray(v)) return v.flatMap((x, i) => leafPaths(x, skip).map((p) => [String(i), ...p]));
  return [[]];
}

/** A different leaf value of the same or another kind. */
function mutateLeaf(v: Value, variant: number): Value {
  if (typeof v === "number") return variant % 2 === 0 ? v + 1 : v - 1;
  if (typeof v === "boolean") return !v;
  if (typeof v === "string") return variant % 2 === 0 ? `${v}x` : null;
  if (v === null) return "x";
  return null;
}

/** `v` with the leaf at `path` changed; the result is never deep-equal to `v`. */
export function mutateAt(v: Value, path: readonly string[], variant: number): Value {
  const [head, ...rest] = path;
  if (head === undefined) return mutateLeaf(v, variant);
  if (isValueRecord(v)) return { ...v, [head]: mutateAt(v[head]!, rest, variant) };
  if (isValueArray(v))
    return v.map((x, i) => (String(i) === head ? mutateAt(x, rest, variant) : x));
  return v;
}

/** Non-decreasing leader times for a list of operations. */
export function withTimes<T>(
  items: fc.Arbitrary<T[]>,
  maxGap: number,
): fc.Arbitrary<{ op: T; time: number }[]> {
  return items.chain((ops) =>
    fc
      .array(fc.integer({ min: 0, max: maxGap }), { minLength: ops.length, maxLength: ops.length })
      .map((gaps) => {
        let time = 0;
        return ops.map((op, i) => {
          time += gaps[i]!;
          return { op, time };
        });
      }),
  );
}

export const command = (value: Value): ClientOperation => ({ kind: "command", value });
export const query = (value: Value): ClientOperation => ({ kind: "query", value });
