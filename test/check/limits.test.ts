/**
 * The checker's budget: counted in steps (so "unknown" is the same on every machine), finite by
 * default, shared across partitions, and stopped early once a verdict is decided.
 */
import { describe, expect, it } from "vitest";
import {
  checkLinearizability,
  DEFAULT_CHECK_LIMITS,
} from "../../src/check/linearizability/index.js";
import { ShardedStringSet } from "../../src/check/linearizability/memo.js";
import type { History, Operation } from "../../src/model/history.js";
import {
  type KvInput,
  kvModel,
  type RegisterInput,
  type RegisterOutput,
  registerModel,
} from "./models.js";

type RegisterOp = Operation<RegisterInput, RegisterOutput>;

/**
 * The history from issue 9: 21 concurrent writes of distinct values and one read, concurrent
 * with all of them, of a value nobody wrote. Refuting it visits every subset of the writes; the
 * unbounded memo passed V8's 2^24-entry Set limit and threw a RangeError.
 */
function issueHistory(): RegisterOp[] {
  const history: RegisterOp[] = [];
  for (let i = 0; i < 21; i++) {
    history.push({
      id: i,
      client: `w${i}`,
      input: { kind: "write", value: i + 1 },
      call: 0,
      ret: 100,
      output: "ok",
    });
  }
  history.push({ id: 21, client: "r", input: { kind: "read" }, call: 0, ret: 100, output: 999 });
  return history;
}

const onKey = (key: string, ops: readonly RegisterOp[], idBase: number) =>
  ops.map(
    (o): Operation<KvInput, RegisterOutput> => ({
      ...o,
      id: idBase + o.id,
      input: { key, op: o.input },
    }),
  );

/** A partition that is refuted at once: a completed write of 1, then a read of 0. */
function staleRead(key: string, idBase: number): Operation<KvInput, RegisterOutput>[] {
  return onKey(
    key,
    [
      { id: 0, client: "a", input: { kind: "write", value: 1 }, call: 0, ret: 1, output: "ok" },
      { id: 1, client: "b", input: { kind: "read" }, call: 2, ret: 3, output: 0 },
    ],
    idBase,
  );
}

describe("step budget", () => {
  it("answers the issue's 22-operation history with unknown under the default budget, without throwing", () => {
    const result = checkLinearizability(registerModel, issueHistory());
    expect(result.verdict).toBe("unknown");
    expect(result.unknownReason).toBe("steps");
    // Deterministic: exactly the default per-partition budget, on any machine.
    expect(result.steps).toBe(DEFAULT_CHECK_LIMITS.maxPartitionSteps);
    expect(result.partitions[0]?.visited).toBeLessThanOrEqual(DEFAULT_CHECK_LIMITS.maxVisited);
  });

  it("gives the same unknown, with the same counts, every time", () => {
    const a = checkLinearizability(registerModel, issueHistory(), { maxSteps: 50_000 });
    const b = checkLinearizability(registerModel, issueHistory(), { maxSteps: 50_000 });
    expect(a.verdict).toBe("unknown");
    expect([a.steps, a.partitions[0]?.visited]).toEqual([b.steps, b.partitions[0]?.visited]);
  });

  it("has finite documented defaults", () => {
    for (const limit of Object.values(DEFAULT_CHECK_LIMITS)) {
      expect(Number.isSafeInteger(limit)).toBe(true);
    }
    expect(DEFAULT_CHECK_LIMITS.maxVisited).toBeLessThan(2 ** 24);
  });

  it("stops at maxVisited before the memo outgrows memory", () => {
    const result = checkLinearizability(registerModel, issueHistory(), { maxVisited: 5_000 });
    expect(result.unknownReason).toBe("visited");
    expect(result.partitions[0]?.visited).toBe(5_001);
  });

  it("shares one budget across partitions, each also capped on its own", () => {
    const history = [
      ...onKey("a", issueHistory(), 0),
      ...onKey("b", issueHistory(), 100),
      ...onKey("c", issueHistory(), 200),
      ...onKey("d", issueHistory(), 300),
    ];
    const result = checkLinearizability(kvModel(true), history, {
      maxPartitionSteps: 1_000,
      maxSteps: 2_500,
    });
    expect(result.partitions.map((p) => p.steps)).toEqual([1_000, 1_000, 500, 0]);
    expect(result.partitions.map((p) => p.verdict)).toEqual([
      "unknown",
      "unknown",
      "unknown",
      "unknown",
    ]);
    expect(result.steps).toBe(2_500);
  });

  it("still decides an easy partition when the budget runs out on a hard one before it", () => {
    const history = [...onKey("hard", issueHistory(), 0), ...staleRead("easy", 100)];
    const result = checkLinearizability(kvModel(true), history, { maxPartitionSteps: 1_000 });
    expect(result.partitions.map((p) => p.verdict)).toEqual(["unknown", "violation"]);
    expect(result.verdict).toBe("violation");
  });

  it("refuses a budget that is not a count", () => {
    const history: History<RegisterInput, RegisterOutput> = [];
    expect(() => checkLinearizability(registerModel, history, { maxSteps: -1 })).toThrow(
      RangeError,
    );
    expect(() => checkLinearizability(registerModel, history, { maxVisited: 1.5 })).toThrow(
      RangeError,
    );
    expect(() => checkLinearizability(registerModel, history, { deadlineMs: Number.NaN })).toThrow(
      RangeError,
    );
  });
});

describe("early stop and the wall-clock safety net", () => {
  it("skips the remaining partitions once one is found violating", () => {
    const history = [...staleRead("bad", 0), ...onKey("hard", issueHistory(), 100)];
    const result = checkLinearizability(kvModel(true), history);
    expect(result.verdict).toBe("violation");
    expect(result.partitions.map((p) => p.verdict)).toEqual(["violation"]);
    expect(result.skippedPartitions).toBe(1);
    expect(result.steps).toBeLessThan(100);
  });

  it("searches every partition when asked to report them all", () => {
    const history = [...staleRead("bad", 0), ...onKey("hard", issueHistory(), 100)];
    const result = checkLinearizability(kvModel(true), history, {
      checkAllPartitions: true,
      maxPartitionSteps: 1_000,
    });
    expect(result.partitions.map((p) => p.verdict)).toEqual(["violation", "unknown"]);
    expect(result.skippedPartitions).toBe(0);
  });

  it("gives unknown with reason deadline when the optional wall clock runs out", () => {
    const result = checkLinearizability(registerModel, issueHistory(), { deadlineMs: 0 });
    expect(result.verdict).toBe("unknown");
    expect(result.unknownReason).toBe("deadline");
  });
});

describe("the search memo", () => {
  it("keeps counting and finding keys past one shard", () => {
    const memo = new ShardedStringSet(4);
    for (let i = 0; i < 10; i++) {
      expect(memo.has(`k${i}`)).toBe(false);
      memo.addNew(`k${i}`);
    }
    expect(memo.size).toBe(10);
    expect(memo.shardCount).toBe(3);
    for (let i = 0; i < 10; i++) expect(memo.has(`k${i}`)).toBe(true);
    expect(memo.has("k10")).toBe(false);
  });

  it("refuses a shard larger than a Set can hold", () => {
    expect(() => new ShardedStringSet(2 ** 24)).toThrow(RangeError);
  });
});
