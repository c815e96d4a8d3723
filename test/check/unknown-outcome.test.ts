/**
 * One representation of an unknown outcome: an operation that returned with an undefined output
 * is read exactly as one that never returned (it may take effect at any time after its call, or
 * never), so a model sees `output === undefined` only for indeterminate operations.
 */
import { describe, expect, it } from "vitest";
import { checkLinearizability } from "../../src/check/linearizability/index.js";
import type { History, Operation } from "../../src/model/history.js";
import { type RegisterInput, type RegisterOutput, registerModel } from "./models.js";

type RegisterOp = Operation<RegisterInput, RegisterOutput>;

/** A write whose reply could not be read at time 2; a read at [3, 4] of the old value; a read at [5, 6] of the new one. */
function history(writeReturn: number | undefined): History<RegisterInput, RegisterOutput> {
  const ops: RegisterOp[] = [
    {
      id: 1,
      client: "a",
      input: { kind: "write", value: 1 },
      call: 0,
      ret: writeReturn,
      output: undefined,
    },
    { id: 2, client: "b", input: { kind: "read" }, call: 3, ret: 4, output: 0 },
    { id: 3, client: "b", input: { kind: "read" }, call: 5, ret: 6, output: 1 },
  ];
  return ops;
}

describe("unknown outcomes", () => {
  it("read a returned operation with an undefined output as indeterminate", () => {
    // Forced to take effect within [0, 2], the write would make the read at [3, 4] stale;
    // with its outcome unknown it may take effect later (between the two reads).
    const returned = checkLinearizability(registerModel, history(2));
    const neverReturned = checkLinearizability(registerModel, history(undefined));
    expect(returned.verdict).toBe("ok");
    expect(returned.partitions[0]?.witness).toEqual([2, 1, 3]);
    expect(returned.partitions[0]?.witness).toEqual(neverReturned.partitions[0]?.witness);
  });

  it("ask the model about an undefined output only for operations without a response", () => {
    const asked: { input: RegisterInput; output: RegisterOutput | undefined }[] = [];
    const spy = {
      ...registerModel,
      step(state: number, input: RegisterInput, output: RegisterOutput | undefined) {
        asked.push({ input, output });
        return registerModel.step(state, input, output);
      },
    };
    const ops: RegisterOp[] = [
      {
        id: 1,
        client: "a",
        input: { kind: "write", value: 1 },
        call: 0,
        ret: 2,
        output: undefined,
      },
      { id: 2, client: "b", input: { kind: "read" }, call: 3, ret: 4, output: 1 },
    ];
    const result = checkLinearizability(spy, ops);
    expect(result.verdict).toBe("ok");
    expect(asked.some((a) => a.output === undefined && a.input.kind === "write")).toBe(true);
    // The caller's history is not modified.
    expect(ops[0]?.ret).toBe(2);
    // Counterexamples and witnesses name the caller's ids.
    expect(result.partitions[0]?.witness).toEqual([1, 2]);
  });
});
