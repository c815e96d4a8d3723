import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeApplyContext, makeQueryContext } from "../../src/core/apply-context.js";
import { createRandom } from "../../src/core/prng.js";
import type { Value } from "../../src/core/value.js";
import {
  COUNTER_MAX_DELTA,
  counterKit,
  counterModel,
  counterService,
  createCounterKit,
  encodeCounterSnapshot,
} from "../../src/state-machines/counter/index.js";
import { kvService } from "../../src/state-machines/kv/index.js";
import type { ClientOperation } from "../../src/state-machines/service-kit.js";
import { SnapshotError } from "../../src/state-machines/shared/snapshot.js";
import {
  command,
  leafPaths,
  mutateAt,
  query,
  runModel,
  runSequentially,
  type Step,
} from "./helpers.js";

/** Queries here do not read the clock. */
const noClock = makeQueryContext(0, 0);

const ctx = makeApplyContext(1, 0, { time: 0, seed: 1 });

describe("counter state machine", () => {
  it("adds and reads", () => {
    const c = counterService.create();
    expect(c.apply({ op: "read" }, ctx)).toEqual({ value: 0 });
    expect(c.apply({ op: "add", delta: 5 }, ctx)).toEqual({ value: 5 });
    expect(c.apply({ op: "add", delta: -7 }, ctx)).toEqual({ value: -2 });
    expect(c.apply({ op: "read" }, ctx)).toEqual({ value: -2 });
    expect(c.query?.({ op: "read" }, noClock)).toEqual({ value: -2 });
  });

  it("shows a duplicated add", () => {
    const once = counterService.create();
    const twice = counterService.create();
    once.apply({ op: "add", delta: 3 }, ctx);
    twice.apply({ op: "add", delta: 3 }, ctx);
    twice.apply({ op: "add", delta: 3 }, ctx);
    expect(twice.apply({ op: "read" }, ctx)).not.toEqual(once.apply({ op: "read" }, ctx));
  });

  it("refuses an add that would leave the safe-integer range", () => {
    const c = counterService.create();
    c.restore(encodeCounterSnapshot(Number.MAX_SAFE_INTEGER - 1));
    expect(c.apply({ op: "add", delta: 1 }, ctx)).toEqual({ value: Number.MAX_SAFE_INTEGER });
    expect(c.apply({ op: "add", delta: 1 }, ctx)).toEqual({
      value: Number.MAX_SAFE_INTEGER,
      error: "overflow",
    });
    expect(c.apply({ op: "add", delta: -1 }, ctx)).toEqual({ value: Number.MAX_SAFE_INTEGER - 1 });
  });
});

describe("counter snapshots", () => {
  it("restores to identical behaviour and identical bytes", () => {
    const a = counterService.create();
    a.apply({ op: "add", delta: 41 }, ctx);
    const bytes = a.snapshot();
    const b = counterService.create();
    b.restore(bytes);
    expect(b.snapshot()).toEqual(bytes);
    expect(b.apply({ op: "add", delta: 1 }, ctx)).toEqual(a.apply({ op: "add", delta: 1 }, ctx));
    // Equal values, reached differently, give equal bytes.
    const c = counterService.create();
    c.apply({ op: "add", delta: 50 }, ctx);
    c.apply({ op: "add", delta: -8 }, ctx);
    expect(c.snapshot()).toEqual(a.snapshot());
  });

  it("rejects corrupt, truncated and foreign snapshots and keeps its state", () => {
    const source = counterService.create();
    source.apply({ op: "add", delta: 123456 }, ctx);
    const bytes = source.snapshot();
    const target = counterService.create();
    target.apply({ op: "add", delta: 9 }, ctx);
    for (let i = 0; i < bytes.length; i++) {
      for (const flip of [0x01, 0x80]) {
        const corrupt = bytes.slice();
        corrupt[i] = corrupt[i]! ^ flip;
        expect(() => target.restore(corrupt)).toThrow(SnapshotError);
      }
    }
    expect(() => target.restore(bytes.slice(0, bytes.length - 2))).toThrow(SnapshotError);
    expect(() => target.restore(new Uint8Array())).toThrow(SnapshotError);
    expect(() => target.restore(kvService.create().snapshot())).toThrow(/belongs to service "kv"/);
    expect(() => target.restore(encodeCounterSnapshot(1.5))).toThrow(/safe integer/);
    expect(target.query?.({ op: "read" }, noClock)).toEqual({ value: 9 });
  });
});

describe("counter validation", () => {
  const bad: [Value, RegExp][] = [
    [42, /counter command must be an object.*got number/],
    [{ op: "inc" }, /unknown op "inc".*"add", "read"/],
    [{ op: "add" }, /add: missing field "delta"/],
    [{ op: "add", delta: "1" }, /field "delta" must be an integer, got string/],
    [{ op: "add", delta: 1.5 }, /field "delta" must be an integer, got 1.5/],
    [{ op: "add", delta: COUNTER_MAX_DELTA + 1 }, /field "delta" is out of range/],
    [{ op: "add", delta: 1, by: "me" }, /add: unexpected field "by"/],
    [{ op: "read", delta: 1 }, /read: unexpected field "delta"/],
  ];
  it.each(bad)("rejects %j", (cmd, message) => {
    expect(counterService.validateCommand(cmd)).toMatch(message);
  });

  it("accepts well-formed commands and queries", () => {
    expect(
      counterService.validateCommand({ op: "add", delta: -COUNTER_MAX_DELTA }),
    ).toBeUndefined();
    expect(counterService.validateCommand({ op: "read" })).toBeUndefined();
    expect(counterService.validateQuery({ op: "read" })).toBeUndefined();
    expect(counterService.validateQuery({ op: "add", delta: 1 })).toMatch(
      /counter query has unknown op "add"/,
    );
  });
});

const counterOpArb: fc.Arbitrary<ClientOperation> = fc.oneof(
  fc.record({ op: fc.constant("add"), delta: fc.integer({ min: -5, max: 5 }) }).map(command),
  fc.constant(command({ op: "read" })),
  fc.constant(query({ op: "read" })),
);
const runCounter = (ops: readonly ClientOperation[]) =>
  runSequentially(
    counterService,
    ops.map((op) => ({ op, time: 0 })),
  );

describe("counter model", () => {
  it("accepts every sequential run of the state machine", () => {
    fc.assert(
      fc.property(fc.array(counterOpArb, { maxLength: 60 }), (ops) => {
        expect(runModel(counterModel, runCounter(ops)).rejectedAt).toBe(-1);
      }),
    );
  });

  it("rejects a run with any one output changed", () => {
    fc.assert(
      fc.property(
        fc.array(counterOpArb, { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.nat(),
        (ops, at, variant) => {
          const steps = runCounter(ops);
          const i = at % steps.length;
          const output = steps[i]!.output!;
          const mutated: Step[] = steps.slice(0, i + 1);
          mutated[i] = {
            input: steps[i]!.input,
            output: mutateAt(output, leafPaths(output)[0]!, variant),
          };
          expect(runModel(counterModel, mutated).rejectedAt).toBe(i);
        },
      ),
    );
  });

  it("rejects a duplicated add", () => {
    const add = command({ op: "add", delta: 2 });
    const steps: Step[] = [
      { input: add, output: { value: 2 } },
      { input: query({ op: "read" }), output: { value: 4 } },
    ];
    expect(runModel(counterModel, steps).rejectedAt).toBe(1);
  });

  it("stays sound when outputs are unknown", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(counterOpArb, fc.boolean()), { maxLength: 50 }), (pairs) => {
        const steps = runCounter(pairs.map(([op]) => op)).map((step, i) =>
          pairs[i]![1] ? { input: step.input, output: undefined } : step,
        );
        expect(runModel(counterModel, steps).rejectedAt).toBe(-1);
      }),
    );
  });

  it("models overflow like the state machine", () => {
    const near = Number.MAX_SAFE_INTEGER - 1;
    const c = counterService.create();
    c.restore(encodeCounterSnapshot(near));
    const output = c.apply({ op: "add", delta: 2 }, ctx);
    const add = command({ op: "add", delta: 2 });
    expect(output).toEqual({ value: near, error: "overflow" });
    expect(counterModel.step(near, add, output)).toEqual([near]);
    expect(counterModel.step(near, add, { value: near + 2 })).toEqual([]);
  });

  it("describes operations", () => {
    const d = counterModel.describe!;
    expect(d(command({ op: "add", delta: 3 }), { value: 17 })).toBe("add(+3) -> 17");
    expect(d(command({ op: "add", delta: -1 }), undefined)).toBe("add(-1) -> ?");
    expect(d(query({ op: "read" }), { value: 17 })).toBe("query read -> 17");
    expect(d(command({ op: "add", delta: 1 }), { value: 9, error: "overflow" })).toBe(
      "add(+1) -> overflow, still 9",
    );
  });
});

describe("counter workload", () => {
  const generate = (kit: typeof counterKit, seed: number, count: number) => {
    const random = createRandom(seed);
    return Array.from({ length: count }, (_, i) => kit.nextOperation(random, i % 4));
  };

  it("is mostly small non-zero adds, all valid, and a function of the seed", () => {
    const ops = generate(counterKit, 11, 3000);
    expect(generate(counterKit, 11, 3000)).toEqual(ops);
    let adds = 0;
    for (const op of ops) {
      const validate =
        op.kind === "command" ? counterService.validateCommand : counterService.validateQuery;
      expect(validate(op.value)).toBeUndefined();
      const v = op.value as { op: string; delta?: number };
      if (v.op === "add") {
        adds++;
        expect(Math.abs(v.delta!)).toBeGreaterThanOrEqual(1);
        expect(Math.abs(v.delta!)).toBeLessThanOrEqual(5);
      }
    }
    expect(adds / ops.length).toBeCloseTo(0.7, 1);
    expect(ops.filter((op) => op.kind === "query").length / ops.length).toBeCloseTo(0.2, 1);
    expect(runModel(counterKit.model, runCounter(ops)).rejectedAt).toBe(-1);
  });

  it("honours its options and rejects bad ones", () => {
    const ops = generate(createCounterKit({ maxDelta: 1, queryRatio: 0, readRatio: 0 }), 2, 200);
    expect(ops.every((op) => Math.abs((op.value as { delta: number }).delta) === 1)).toBe(true);
    expect(() => createCounterKit({ maxDelta: 0 })).toThrow(RangeError);
    expect(() => createCounterKit({ queryRatio: 0.6, readRatio: 0.6 })).toThrow(RangeError);
  });
});
