/**
 * An "ok" verdict carries a witness: a linearization order per partition, which these tests
 * replay through the model (real-time order respected, every completed operation placed, each
 * output one the model allows in the state reached).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkLinearizability } from "../../src/check/linearizability/index.js";
import type { History, Model } from "../../src/model/history.js";
import { isLinearizablePrefix } from "./brute-force.js";
import {
  bumpCounterSpec,
  historyArbitrary,
  kvSpec,
  queueSpec,
  registerSpec,
  type Spec,
  show,
} from "./generate.js";
import { bumpCounterModel, kvModel, queueModel, registerModel } from "./models.js";

/** Checks `history` and replays each ok partition's witness; returns the verdict. */
function checkWitnesses<S, I, O>(model: Model<S, I, O>, history: History<I, O>): string {
  const result = checkLinearizability(model, history);
  if (result.verdict !== "ok") return result.verdict;
  const parts = model.partition ? model.partition(history) : [history];
  expect(result.partitions).toHaveLength(parts.length);
  for (const [index, partition] of result.partitions.entries()) {
    const part = parts[index]!;
    const witness = partition.witness;
    expect(witness, show(model, part)).toBeDefined();
    if (witness === undefined) continue;
    // A full linearization: a valid order that the model accepts, holding every completed op.
    expect(isLinearizablePrefix(model, part, witness), show(model, part)).toBe(true);
    const completed = part.filter((op) => op.ret !== undefined).map((op) => op.id);
    for (const id of completed) expect(witness).toContain(id);
    expect(partition.counterexample).toBeUndefined();
  }
  return result.verdict;
}

function witnessesReplay<S, I, O>(model: Model<S, I, O>, spec: Spec<S, I, O>, runs: number): void {
  const shape = { maxOps: 40, clients: 4, indeterminatePercent: 10, mode: "linearizable" } as const;
  fc.assert(
    fc.property(historyArbitrary(spec, shape), (history) => {
      expect(checkWitnesses(model, history)).toBe("ok");
    }),
    { numRuns: runs },
  );
}

describe("witness linearizations", () => {
  it("replay through the register model", () => {
    witnessesReplay(registerModel, registerSpec, 200);
  });

  it("replay through a nondeterministic model", () => {
    witnessesReplay(bumpCounterModel, bumpCounterSpec, 150);
  });

  it("replay through the queue model", () => {
    witnessesReplay(queueModel, queueSpec, 150);
  });

  it("replay per partition of a key-value history", () => {
    witnessesReplay(kvModel(true), kvSpec(["x", "y", "z"]), 150);
  });

  it("place an indeterminate write that a read saw, and leave out one nobody saw", () => {
    const result = checkLinearizability(registerModel, [
      {
        id: 1,
        client: "a",
        input: { kind: "write", value: 1 },
        call: 0,
        ret: undefined,
        output: undefined,
      },
      {
        id: 2,
        client: "b",
        input: { kind: "write", value: 2 },
        call: 0,
        ret: undefined,
        output: undefined,
      },
      { id: 3, client: "c", input: { kind: "read" }, call: 5, ret: 6, output: 1 },
    ]);
    expect(result.verdict).toBe("ok");
    expect(result.partitions[0]?.witness).toEqual([1, 3]);
  });

  it("are absent when the verdict is not ok", () => {
    const result = checkLinearizability(registerModel, [
      { id: 1, client: "a", input: { kind: "write", value: 1 }, call: 0, ret: 1, output: "ok" },
      { id: 2, client: "b", input: { kind: "read" }, call: 2, ret: 3, output: 0 },
    ]);
    expect(result.verdict).toBe("violation");
    expect(result.partitions[0]?.witness).toBeUndefined();
  });
});
