import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkLinearizability } from "../../src/check/linearizability/index.js";
import type { History, Model, Operation } from "../../src/model/history.js";
import { bruteForceLinearizable, isLinearizablePrefix } from "./brute-force.js";
import {
  bumpCounterSpec,
  type HistoryShape,
  historyArbitrary,
  kvSpec,
  queueSpec,
  registerSpec,
  type Spec,
  show,
} from "./generate.js";
import {
  bumpCounterModel,
  type CounterInput,
  type CounterOutput,
  type KvInput,
  kvModel,
  type QueueInput,
  type QueueOutput,
  queueModel,
  type RegisterInput,
  type RegisterOutput,
  registerModel,
} from "./models.js";

function op<I, O>(
  id: number,
  client: string,
  input: I,
  call: number,
  ret: number | undefined,
  output: O | undefined,
): Operation<I, O> {
  return { id, client, input, call, ret, output };
}

/** An op that never got a response. */
function pending<I, O>(id: number, client: string, input: I, call: number): Operation<I, O> {
  return { id, client, input, call, ret: undefined, output: undefined };
}

const read = (): RegisterInput => ({ kind: "read" });
const write = (value: number): RegisterInput => ({ kind: "write", value });
const cas = (from: number, to: number): RegisterInput => ({ kind: "cas", from, to });
type RegisterHistory = History<RegisterInput, RegisterOutput>;

function verdictOf(history: RegisterHistory): string {
  return checkLinearizability(registerModel, history).verdict;
}

/** The single partition's counterexample, which must exist. */
function counterexampleOf(history: RegisterHistory) {
  const result = checkLinearizability(registerModel, history);
  expect(result.verdict).toBe("violation");
  const counterexample = result.partitions[0]?.counterexample;
  if (counterexample === undefined) throw new Error("violation without a counterexample");
  return counterexample;
}

const ids = (ops: readonly Operation<unknown, unknown>[]): number[] => ops.map((o) => o.id);

describe("linearizable register histories", () => {
  it("accepts the empty history", () => {
    const result = checkLinearizability(registerModel, []);
    expect(result.verdict).toBe("ok");
    expect(result.partitions).toHaveLength(1);
    expect(result.operations).toBe(0);
  });

  it("accepts a sequential history", () => {
    const history: RegisterHistory = [
      op(1, "a", write(1), 0, 1, "ok"),
      op(2, "a", read(), 2, 3, 1),
      op(3, "b", cas(1, 2), 4, 5, true),
      op(4, "b", cas(1, 3), 6, 7, false),
      op(5, "a", read(), 8, 9, 2),
    ];
    const result = checkLinearizability(registerModel, history);
    expect(result.verdict).toBe("ok");
    expect(result.partitions[0]).toMatchObject({ index: 0, verdict: "ok", operations: 5 });
    expect(result.partitions[0]?.counterexample).toBeUndefined();
  });

  it("lets a read that overlaps two writes see either, or neither", () => {
    const writes: RegisterHistory = [
      op(1, "a", write(1), 0, 10, "ok"),
      op(2, "b", write(2), 5, 15, "ok"),
    ];
    for (const seen of [0, 1, 2]) {
      expect(verdictOf([...writes, op(3, "c", read(), 2, 12, seen)])).toBe("ok");
    }
    // After both completed, a read may still see either: their order is not fixed.
    for (const seen of [1, 2]) {
      expect(verdictOf([...writes, op(3, "c", read(), 16, 17, seen)])).toBe("ok");
    }
  });

  it("accepts an indeterminate write that is later seen", () => {
    const history: RegisterHistory = [
      pending(1, "a", write(1), 0),
      op(2, "b", read(), 5, 6, 0),
      op(3, "b", read(), 50, 51, 1),
      op(4, "b", read(), 60, 61, 1),
    ];
    expect(verdictOf(history)).toBe("ok");
  });

  it("accepts an indeterminate write that is never seen", () => {
    const history: RegisterHistory = [
      pending(1, "a", write(1), 0),
      op(2, "b", read(), 5, 6, 0),
      op(3, "b", read(), 7, 8, 0),
    ];
    expect(verdictOf(history)).toBe("ok");
  });

  it("does not let an indeterminate write take effect before its call", () => {
    const history: RegisterHistory = [op(1, "b", read(), 0, 1, 1), pending(2, "a", write(1), 5)];
    expect(verdictOf(history)).toBe("violation");
  });

  it("lets an indeterminate op take effect in a later state where it does something", () => {
    // The cas cannot do anything at first (the register holds 0), but may after write(1).
    const history: RegisterHistory = [
      pending(1, "a", cas(1, 2), 0),
      op(2, "b", read(), 1, 2, 0),
      op(3, "b", write(1), 3, 4, "ok"),
      op(4, "b", read(), 5, 6, 2),
    ];
    expect(verdictOf(history)).toBe("ok");
    expect(verdictOf(history.filter((o) => o.id !== 3))).toBe("violation");
  });

  it("orders an op that returns exactly when another is called", () => {
    // ret === call counts as "returned before": the read must see the write.
    expect(verdictOf([op(1, "a", write(1), 0, 5, "ok"), op(2, "b", read(), 5, 6, 0)])).toBe(
      "violation",
    );
    expect(verdictOf([op(1, "a", write(1), 0, 5, "ok"), op(2, "b", read(), 5, 6, 1)])).toBe("ok");
    // An instantaneous op is still ordered after one that returns at its time...
    expect(verdictOf([op(1, "a", write(1), 0, 5, "ok"), op(2, "b", read(), 5, 5, 0)])).toBe(
      "violation",
    );
    // ...but two instantaneous ops at the same time are concurrent.
    expect(verdictOf([op(1, "a", write(1), 5, 5, "ok"), op(2, "b", read(), 5, 5, 0)])).toBe("ok");
  });
});

describe("non-linearizable register histories", () => {
  it("rejects a stale read after a completed write", () => {
    const counterexample = counterexampleOf([
      op(1, "a", write(1), 0, 1, "ok"),
      op(2, "b", read(), 2, 3, 0),
    ]);
    expect(counterexample.linearized).toEqual([1]);
    expect(ids(counterexample.stuckAt)).toEqual([2]);
    expect(counterexample.explanation).toContain("read() -> 0");
    expect(counterexample.explanation).toContain("write(1) -> ok");
    expect(counterexample.explanation).toContain("State after it: 1");
  });

  it("rejects a read of a value never written", () => {
    const counterexample = counterexampleOf([
      op(1, "a", write(1), 0, 10, "ok"),
      op(2, "b", read(), 2, 3, 5),
      op(3, "b", read(), 4, 5, 1),
    ]);
    expect(ids(counterexample.stuckAt)).toContain(2);
    expect(counterexample.linearized).not.toContain(2);
  });

  it("rejects two reads that see the new value and then the old one", () => {
    const counterexample = counterexampleOf([
      op(1, "a", write(1), 0, 10, "ok"),
      op(2, "b", read(), 1, 2, 1),
      op(3, "c", read(), 3, 4, 0),
    ]);
    expect(counterexample.linearized).toEqual([1, 2]);
    expect(ids(counterexample.stuckAt)).toEqual([3]);
  });

  it("rejects a value seen and then lost with only an indeterminate write", () => {
    const history: RegisterHistory = [
      pending(1, "a", write(1), 0),
      op(2, "b", read(), 5, 6, 1),
      op(3, "b", read(), 7, 8, 0),
    ];
    const counterexample = counterexampleOf(history);
    expect(counterexample.linearized).toEqual([1, 2]);
    expect(ids(counterexample.stuckAt)).toEqual([3]);
  });

  it("rejects two compare-and-sets that both succeed from the same value", () => {
    const counterexample = counterexampleOf([
      op(1, "a", cas(0, 1), 0, 10, true),
      op(2, "b", cas(0, 2), 0, 10, true),
    ]);
    expect(counterexample.linearized).toHaveLength(1);
    expect(ids(counterexample.stuckAt)).toHaveLength(1);
  });

  it("uses the model's name and original op ids in the explanation", () => {
    const counterexample = counterexampleOf([
      op(41, "alice", write(7), 0, 1, "ok"),
      op(42, "bob", read(), 2, 3, 0),
    ]);
    expect(counterexample.explanation).toMatch(/^register, partition 0: not linearizable/);
    expect(counterexample.explanation).toContain("#42 bob: read() -> 0 [2, 3]");
  });
});

describe("other models", () => {
  const bump: CounterInput = { kind: "bump" };
  const get: CounterInput = { kind: "get" };
  const counterVerdict = (history: History<CounterInput, CounterOutput>) =>
    checkLinearizability(bumpCounterModel, history).verdict;

  it("branches on a nondeterministic model", () => {
    const bumped = [op<CounterInput, CounterOutput>(1, "a", bump, 0, 1, "ok")];
    expect(counterVerdict([...bumped, op(2, "b", get, 2, 3, 1)])).toBe("ok");
    expect(counterVerdict([...bumped, op(2, "b", get, 2, 3, 2)])).toBe("ok");
    expect(counterVerdict([...bumped, op(2, "b", get, 2, 3, 3)])).toBe("violation");
    const twice = [...bumped, op<CounterInput, CounterOutput>(2, "b", bump, 0, 1, "ok")];
    expect(counterVerdict([...twice, op(3, "c", get, 2, 3, 3)])).toBe("ok");
    expect(counterVerdict([...twice, op(3, "c", get, 2, 3, 5)])).toBe("violation");
    // Both gets must agree on the same choice of increments.
    expect(counterVerdict([...bumped, op(2, "b", get, 2, 3, 2), op(3, "b", get, 4, 5, 1)])).toBe(
      "violation",
    );
  });

  it("checks a FIFO queue", () => {
    const enqueue = (value: number): QueueInput => ({ kind: "enqueue", value });
    const dequeue: QueueInput = { kind: "dequeue" };
    const verdict = (history: History<QueueInput, QueueOutput>) =>
      checkLinearizability(queueModel, history).verdict;
    const sequential = [
      op<QueueInput, QueueOutput>(1, "a", enqueue(1), 0, 1, "ok"),
      op<QueueInput, QueueOutput>(2, "a", enqueue(2), 2, 3, "ok"),
    ];
    expect(verdict([...sequential, op(3, "b", dequeue, 4, 5, 1)])).toBe("ok");
    expect(verdict([...sequential, op(3, "b", dequeue, 4, 5, 2)])).toBe("violation");
    const concurrent = [
      op<QueueInput, QueueOutput>(1, "a", enqueue(1), 0, 3, "ok"),
      op<QueueInput, QueueOutput>(2, "b", enqueue(2), 0, 3, "ok"),
    ];
    expect(
      verdict([...concurrent, op(3, "c", dequeue, 4, 5, 2), op(4, "c", dequeue, 6, 7, 1)]),
    ).toBe("ok");
    expect(
      verdict([...concurrent, op(3, "c", dequeue, 4, 5, 2), op(4, "c", dequeue, 6, 7, 2)]),
    ).toBe("violation");
  });
});

describe("P-compositionality", () => {
  const kv = (key: string, input: RegisterInput): KvInput => ({ key, op: input });
  const history: History<KvInput, RegisterOutput> = [
    op(1, "a", kv("x", write(1)), 0, 10, "ok"),
    op(2, "b", kv("y", write(2)), 0, 10, "ok"),
    op(3, "c", kv("x", read()), 5, 6, 1),
    op(4, "c", kv("y", read()), 7, 8, 0),
    op(5, "a", kv("x", read()), 11, 12, 1),
    op(6, "b", kv("y", read()), 11, 12, 2),
  ];

  it("splits by key and agrees with the unpartitioned check", () => {
    const split = checkLinearizability(kvModel(true), history);
    expect(split.verdict).toBe("ok");
    expect(split.partitions.map((p) => p.operations)).toEqual([3, 3]);
    expect(checkLinearizability(kvModel(false), history).verdict).toBe("ok");
  });

  it("reports the violating partition only", () => {
    const broken = [...history, op(7, "c", kv("y", read()), 13, 14, 0)];
    const split = checkLinearizability(kvModel(true), broken);
    expect(split.verdict).toBe("violation");
    expect(split.partitions.map((p) => p.verdict)).toEqual(["ok", "violation"]);
    expect(ids(split.partitions[1]?.counterexample?.stuckAt ?? [])).toEqual([7]);
    expect(split.partitions[1]?.counterexample?.explanation).toContain("partition 1");
    expect(checkLinearizability(kvModel(false), broken).verdict).toBe("violation");
  });
});

describe("limits and robustness", () => {
  /** Many concurrent writes and a read of a value nobody wrote: refuting it is exponential. */
  function pathological(writers: number): RegisterHistory {
    const history: Operation<RegisterInput, RegisterOutput>[] = [];
    for (let i = 0; i < writers; i++) history.push(op(i, `w${i}`, write(i), 0, 100, "ok"));
    history.push(op(writers, "r", read(), 0, 100, -1));
    return history;
  }

  it("gives unknown, not ok or violation, when the step budget is spent", () => {
    const result = checkLinearizability(registerModel, pathological(40), { maxSteps: 20_000 });
    expect(result.verdict).toBe("unknown");
    expect(result.unknownReason).toBe("steps");
    expect(result.steps).toBe(20_000);
    expect(result.partitions[0]?.verdict).toBe("unknown");
    expect(result.partitions[0]?.unknownReason).toBe("steps");
    expect(result.partitions[0]?.counterexample).toBeUndefined();
  });

  it("gives unknown when maxVisited is exceeded", () => {
    const result = checkLinearizability(registerModel, pathological(40), { maxVisited: 1000 });
    expect(result.verdict).toBe("unknown");
    expect(result.partitions[0]?.visited).toBeGreaterThan(1000);
  });

  it("lets a violation win over unknown across partitions", () => {
    const kv = (key: string, input: RegisterInput): KvInput => ({ key, op: input });
    const history: History<KvInput, RegisterOutput> = [
      ...pathological(40).map((o) => ({ ...o, input: kv("slow", o.input) })),
      op(100, "a", kv("x", write(1)), 0, 1, "ok"),
      op(101, "b", kv("x", read()), 2, 3, 0),
    ];
    const result = checkLinearizability(kvModel(true), history, { maxVisited: 1000 });
    expect(result.partitions.map((p) => p.verdict)).toEqual(["unknown", "violation"]);
    expect(result.verdict).toBe("violation");
  });

  it("refutes quickly despite many timed-out reads", () => {
    // Placing or not placing each timed-out read would be 2^40 branches; they change nothing,
    // so the search never places them.
    const history: Operation<RegisterInput, RegisterOutput>[] = [];
    for (let i = 0; i < 40; i++) history.push(pending(i, `r${i}`, read(), 0));
    history.push(op(40, "a", write(1), 1, 2, "ok"), op(41, "a", read(), 3, 4, 0));
    const result = checkLinearizability(registerModel, history);
    expect(result.verdict).toBe("violation");
    expect(ids(result.partitions[0]?.counterexample?.stuckAt ?? [])).toContain(41);
  });

  it("handles long histories without recursion", () => {
    const history: Operation<RegisterInput, RegisterOutput>[] = [];
    for (let i = 0; i < 30_000; i++) {
      const t = 10 * i;
      history.push(op(2 * i, "a", write(i), t, t + 6, "ok"));
      history.push(op(2 * i + 1, "b", read(), t + 3, t + 9, i % 2 === 0 ? i : i - 1));
    }
    expect(verdictOf(history)).toBe("ok");
    // Break the last read: the counterexample's prefix is long and gets abbreviated.
    const last = history.length - 1;
    history[last] = { ...history[last]!, output: -1 };
    const counterexample = counterexampleOf(history);
    expect(ids(counterexample.stuckAt)).toContain(last);
    expect(counterexample.linearized.length).toBeGreaterThan(59_990);
    expect(counterexample.explanation).toContain("earlier operations");
  });

  it("rejects malformed histories", () => {
    expect(() => verdictOf([op(1, "a", read(), 0, 1, 0), op(1, "b", read(), 0, 1, 0)])).toThrow(
      /duplicate/,
    );
    expect(() => verdictOf([op(1, "a", read(), 5, 4, 0)])).toThrow(RangeError);
    expect(() => verdictOf([op(1, "a", read(), Number.NaN, 4, 0)])).toThrow(RangeError);
  });
});

describe("properties", () => {
  /** Compare with the brute-force checker and check the counterexample is a real witness. */
  function agreesWithBruteForce<S, I, O>(
    model: Model<S, I, O>,
    spec: Spec<S, I, O>,
    shape: Omit<HistoryShape, "mode">,
    numRuns: number,
  ): void {
    const histories = fc.oneof(
      historyArbitrary(spec, { ...shape, mode: "corrupted" }),
      historyArbitrary(spec, { ...shape, mode: "random" }),
    );
    fc.assert(
      fc.property(histories, (history) => {
        const expected = bruteForceLinearizable(model, history) ? "ok" : "violation";
        const result = checkLinearizability(model, history);
        const label = show(model, history);
        expect(result.verdict, label).toBe(expected);
        const counterexample = result.partitions[0]?.counterexample;
        if (expected === "violation") {
          expect(counterexample, label).toBeDefined();
          if (counterexample === undefined) return;
          expect(isLinearizablePrefix(model, history, counterexample.linearized), label).toBe(true);
          expect(counterexample.stuckAt.length, label).toBeGreaterThan(0);
          for (const stuck of counterexample.stuckAt) {
            expect(counterexample.linearized, label).not.toContain(stuck.id);
          }
        }
      }),
      { numRuns },
    );
  }

  const small = { maxOps: 7, clients: 3, indeterminatePercent: 15 };

  it("agrees with brute force on small register histories", () => {
    agreesWithBruteForce(registerModel, registerSpec, small, 1000);
  });

  it("agrees with brute force on a nondeterministic model", () => {
    agreesWithBruteForce(bumpCounterModel, bumpCounterSpec, small, 600);
  });

  it("agrees with brute force on small queue histories", () => {
    agreesWithBruteForce(queueModel, queueSpec, small, 600);
  });

  it("accepts histories that are linearizable by construction", () => {
    const shape = {
      maxOps: 60,
      clients: 5,
      indeterminatePercent: 8,
      mode: "linearizable",
    } as const;
    const runs = { numRuns: 200 };
    fc.assert(
      fc.property(historyArbitrary(registerSpec, shape), (history) => {
        expect(checkLinearizability(registerModel, history).verdict).toBe("ok");
      }),
      runs,
    );
    fc.assert(
      fc.property(historyArbitrary(bumpCounterSpec, shape), (history) => {
        expect(checkLinearizability(bumpCounterModel, history).verdict).toBe("ok");
      }),
      runs,
    );
    fc.assert(
      fc.property(historyArbitrary(queueSpec, shape), (history) => {
        expect(checkLinearizability(queueModel, history).verdict).toBe("ok");
      }),
      runs,
    );
  });

  it("gives the same verdict partitioned per key as unpartitioned", () => {
    const spec = kvSpec(["x", "y", "z"]);
    const shape = { maxOps: 9, clients: 3, indeterminatePercent: 10 };
    const histories = fc.oneof(
      historyArbitrary(spec, { ...shape, mode: "linearizable" }),
      historyArbitrary(spec, { ...shape, mode: "corrupted" }),
    );
    fc.assert(
      fc.property(histories, (history) => {
        const whole = checkLinearizability(kvModel(false), history).verdict;
        const split = checkLinearizability(kvModel(true), history).verdict;
        expect(split, show(kvModel(false), history)).toBe(whole);
      }),
      { numRuns: 400 },
    );
  });
});
