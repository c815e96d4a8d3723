import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeApplyContext, makeQueryContext } from "../../src/core/apply-context.js";
import { createRandom } from "../../src/core/prng.js";
import type { Value } from "../../src/core/value.js";
import type { Operation } from "../../src/model/history.js";
import { counterService } from "../../src/state-machines/counter/index.js";
import {
  createKvKit,
  encodeKvSnapshot,
  KV_MAX_KEY_LENGTH,
  KV_MAX_VALUE_BYTES,
  type KvCommand,
  kvKit,
  kvModel,
  kvService,
} from "../../src/state-machines/kv/index.js";
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

function freshKv() {
  return kvService.create();
}

describe("kv state machine", () => {
  it("applies put, get, del and cas", () => {
    const kv = freshKv();
    const run = (cmd: KvCommand) => kv.apply(cmd, ctx);
    expect(run({ op: "get", key: "a" })).toEqual({ ok: true, value: null });
    expect(run({ op: "put", key: "a", value: "1" })).toEqual({ ok: true, prev: null });
    expect(run({ op: "put", key: "a", value: "2" })).toEqual({ ok: true, prev: "1" });
    expect(run({ op: "get", key: "a" })).toEqual({ ok: true, value: "2" });
    expect(run({ op: "cas", key: "a", expected: "1", value: "3" })).toEqual({
      ok: false,
      value: "2",
    });
    expect(run({ op: "cas", key: "a", expected: "2", value: "3" })).toEqual({
      ok: true,
      value: "3",
    });
    expect(run({ op: "cas", key: "a", expected: null, value: "4" })).toEqual({
      ok: false,
      value: "3",
    });
    expect(run({ op: "cas", key: "a", expected: "3", value: null })).toEqual({
      ok: true,
      value: null,
    });
    expect(run({ op: "get", key: "a" })).toEqual({ ok: true, value: null });
    expect(run({ op: "cas", key: "a", expected: null, value: "5" })).toEqual({
      ok: true,
      value: "5",
    });
    expect(run({ op: "del", key: "a" })).toEqual({ ok: true, existed: true });
    expect(run({ op: "del", key: "a" })).toEqual({ ok: true, existed: false });
    expect(run({ op: "cas", key: "b", expected: null, value: null })).toEqual({
      ok: true,
      value: null,
    });
    expect(kv.query?.({ op: "get", key: "b" }, noClock)).toEqual({ ok: true, value: null });
  });

  it("treats keys like __proto__ as ordinary keys", () => {
    const kv = freshKv();
    kv.apply({ op: "put", key: "__proto__", value: "p" }, ctx);
    expect(kv.query?.({ op: "get", key: "__proto__" }, noClock)).toEqual({ ok: true, value: "p" });
    expect(kv.query?.({ op: "get", key: "constructor" }, noClock)).toEqual({
      ok: true,
      value: null,
    });
  });

  it("answers queries like gets, without changing state", () => {
    const kv = freshKv();
    kv.apply({ op: "put", key: "k", value: "v" }, ctx);
    const before = kv.snapshot();
    expect(kv.query?.({ op: "get", key: "k" }, noClock)).toEqual(
      kv.apply({ op: "get", key: "k" }, ctx),
    );
    expect(kv.snapshot()).toEqual(before);
  });
});

describe("kv snapshots", () => {
  const fill = (keys: readonly string[]) => {
    const kv = freshKv();
    for (const key of keys) kv.apply({ op: "put", key, value: `v-${key}` }, ctx);
    return kv;
  };

  it("gives equal bytes for equal states, whatever the insertion order", () => {
    const a = fill(["b", "a", "é", "c", "A"]);
    const b = fill(["A", "é", "c", "a", "b"]);
    expect(a.snapshot()).toEqual(b.snapshot());
    // A key written and deleted leaves no trace.
    b.apply({ op: "put", key: "zz", value: "gone" }, ctx);
    b.apply({ op: "del", key: "zz" }, ctx);
    expect(a.snapshot()).toEqual(b.snapshot());
  });

  it("restores to identical behaviour and identical bytes", () => {
    const original = fill(["x", "y", "z"]);
    const bytes = original.snapshot();
    const copy = freshKv();
    copy.apply({ op: "put", key: "junk", value: "replaced by restore" }, ctx);
    copy.restore(bytes);
    expect(copy.snapshot()).toEqual(bytes);
    const cmds: KvCommand[] = [
      { op: "get", key: "junk" },
      { op: "cas", key: "x", expected: "v-x", value: "new" },
      { op: "del", key: "y" },
      { op: "put", key: "w", value: "w" },
      { op: "get", key: "z" },
    ];
    for (const cmd of cmds) expect(copy.apply(cmd, ctx)).toEqual(original.apply(cmd, ctx));
    expect(copy.snapshot()).toEqual(original.snapshot());
  });

  it("round-trips an empty store and large values", () => {
    const empty = freshKv();
    const copy = freshKv();
    copy.restore(empty.snapshot());
    expect(copy.snapshot()).toEqual(empty.snapshot());
    const big = freshKv();
    big.apply({ op: "put", key: "big", value: "é".repeat(KV_MAX_VALUE_BYTES / 2) }, ctx);
    copy.restore(big.snapshot());
    expect(copy.query?.({ op: "get", key: "big" }, noClock)).toEqual({
      ok: true,
      value: "é".repeat(KV_MAX_VALUE_BYTES / 2),
    });
  });

  it("rejects every single-byte corruption, truncation and foreign snapshots", () => {
    const source = fill(["alpha", "beta"]);
    const bytes = source.snapshot();
    const target = fill(["kept"]);
    const kept = target.snapshot();
    for (let i = 0; i < bytes.length; i++) {
      const corrupt = bytes.slice();
      corrupt[i] = corrupt[i]! ^ 0x20;
      expect(() => target.restore(corrupt)).toThrow(SnapshotError);
    }
    for (const cut of [0, 1, 4, bytes.length - 1]) {
      expect(() => target.restore(bytes.slice(0, cut))).toThrow(SnapshotError);
    }
    expect(() => target.restore(counterService.create().snapshot())).toThrow(/belongs to service/);
    // A failed restore leaves the state as it was.
    expect(target.snapshot()).toEqual(kept);
  });
});

describe("kv validation", () => {
  const bad: [Value, RegExp][] = [
    ["put", /must be an object.*got string/],
    [null, /must be an object.*got null/],
    [[1, 2], /must be an object.*got array/],
    [{ key: "k" }, /missing field "op"/],
    [{ op: "fetch", key: "k" }, /unknown op "fetch".*"put", "get", "del", "cas"/],
    [{ op: 3, key: "k" }, /unknown op number/],
    [{ op: "put", value: "v" }, /put: missing field "key"/],
    [{ op: "put", key: "k" }, /put: missing field "value"/],
    [{ op: "put", key: 7, value: "v" }, /field "key" must be a string, got number/],
    [{ op: "put", key: "k", value: null }, /field "value" must be a string, got null/],
    [
      { op: "put", key: "k", value: new Uint8Array(2) },
      /field "value" must be a string, got bytes/,
    ],
    [
      { op: "get", key: "k".repeat(KV_MAX_KEY_LENGTH + 1) },
      /field "key" is too long \(1025 characters, at most 1024\)/,
    ],
    [
      { op: "put", key: "k", value: "é".repeat(KV_MAX_VALUE_BYTES / 2 + 1) },
      /field "value" is too long \(1048578 UTF-8 bytes, at most 1048576\)/,
    ],
    [{ op: "cas", key: "k", value: "v" }, /cas: missing field "expected"/],
    [{ op: "cas", key: "k", expected: null }, /cas: missing field "value"/],
    [
      { op: "cas", key: "k", expected: 1, value: "v" },
      /field "expected" must be a string or null, got number/,
    ],
    [{ op: "del", key: "k", value: "v" }, /del: unexpected field "value"/],
    [{ op: "get", key: "k", ttl: 1 }, /get: unexpected field "ttl"/],
  ];
  it.each(bad)("rejects %j", (cmd, message) => {
    expect(kvService.validateCommand(cmd)).toMatch(message);
  });

  it("accepts well-formed commands, including the longest allowed", () => {
    const ok: Value[] = [
      { op: "put", key: "", value: "" },
      { op: "put", key: "k".repeat(KV_MAX_KEY_LENGTH), value: "v".repeat(KV_MAX_VALUE_BYTES) },
      { op: "get", key: "k" },
      { op: "del", key: "k" },
      { op: "cas", key: "k", expected: null, value: null },
      { op: "cas", key: "k", expected: "a", value: "b" },
    ];
    for (const cmd of ok) expect(kvService.validateCommand(cmd)).toBeUndefined();
  });

  it("accepts only get as a query", () => {
    expect(kvService.validateQuery({ op: "get", key: "k" })).toBeUndefined();
    expect(kvService.validateQuery({ op: "put", key: "k", value: "v" })).toMatch(
      /kv query has unknown op "put" \(expected one of "get"\)/,
    );
    expect(kvService.validateQuery({ op: "get" })).toMatch(/kv query get: missing field "key"/);
  });
});

const keyArb = fc.constantFrom("a", "b", "c");
const valueArb = fc.constantFrom("x", "y", "z");
const nullableValueArb = fc.option(valueArb, { nil: null });
const kvOpArb: fc.Arbitrary<ClientOperation> = fc.oneof(
  fc.record({ op: fc.constant("put"), key: keyArb, value: valueArb }).map(command),
  fc.record({ op: fc.constant("get"), key: keyArb }).map(command),
  fc.record({ op: fc.constant("get"), key: keyArb }).map(query),
  fc.record({ op: fc.constant("del"), key: keyArb }).map(command),
  fc
    .record({
      op: fc.constant("cas"),
      key: keyArb,
      expected: nullableValueArb,
      value: nullableValueArb,
    })
    .map(command),
);
const runKv = (ops: readonly ClientOperation[]) =>
  runSequentially(
    kvService,
    ops.map((op) => ({ op, time: 0 })),
  );

describe("kv model", () => {
  it("accepts every sequential run of the state machine", () => {
    fc.assert(
      fc.property(fc.array(kvOpArb, { maxLength: 60 }), (ops) => {
        const { rejectedAt, states } = runModel(kvModel, runKv(ops));
        expect(rejectedAt).toBe(-1);
        expect(states).toHaveLength(1);
      }),
    );
  });

  it("rejects a run with any one output changed", () => {
    fc.assert(
      fc.property(
        fc.array(kvOpArb, { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (ops, at, which, variant) => {
          const steps = runKv(ops);
          const i = at % steps.length;
          const output = steps[i]!.output!;
          const paths = leafPaths(output);
          const mutated: Step[] = steps.slice(0, i + 1);
          mutated[i] = {
            input: steps[i]!.input,
            output: mutateAt(output, paths[which % paths.length]!, variant),
          };
          expect(runModel(kvModel, mutated).rejectedAt).toBe(i);
        },
      ),
    );
  });

  it("stays sound when outputs are unknown", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(kvOpArb, fc.boolean()), { maxLength: 50 }), (pairs) => {
        const steps = runKv(pairs.map(([op]) => op)).map((step, i) =>
          pairs[i]![1] ? { input: step.input, output: undefined } : step,
        );
        expect(runModel(kvModel, steps).rejectedAt).toBe(-1);
      }),
    );
  });

  it("treats malformed operations as having no effect", () => {
    const steps: Step[] = [
      { input: command({ op: "put", key: "k", value: "1" }), output: { ok: true, prev: null } },
      { input: command({ op: "put", key: 5 }), output: "rejected" },
      { input: query({ op: "get", key: "k" }), output: { ok: true, value: "1" } },
    ];
    expect(runModel(kvModel, steps).rejectedAt).toBe(-1);
  });

  it("partitions a history by key, keeping order", () => {
    const op = (id: number, value: Value): Operation<ClientOperation, Value> => ({
      id,
      client: "c",
      input: command(value),
      call: id,
      ret: id + 0.5,
      output: null,
    });
    const history = [
      op(1, { op: "put", key: "a", value: "1" }),
      op(2, { op: "get", key: "b" }),
      op(3, { op: "bogus" }),
      op(4, { op: "del", key: "a" }),
      op(5, { op: "cas", key: "b", expected: null, value: "2" }),
    ];
    const parts = kvModel.partition?.(history).map((part) => part.map((o) => o.id));
    expect(parts).toEqual([[1, 4], [2, 5], [3]]);
  });

  it("has a canonical state key", () => {
    const a = runModel(
      kvModel,
      runKv([
        command({ op: "put", key: "b", value: "x" }),
        command({ op: "put", key: "a", value: "y" }),
      ]),
    );
    const b = runModel(
      kvModel,
      runKv([
        command({ op: "put", key: "a", value: "y" }),
        command({ op: "put", key: "b", value: "x" }),
      ]),
    );
    expect(kvModel.key(a.states[0]!)).toBe(kvModel.key(b.states[0]!));
  });

  it("describes operations for counterexamples", () => {
    const d = kvModel.describe!;
    expect(d(command({ op: "put", key: "k1", value: "v3" }), { ok: true, prev: "v2" })).toBe(
      'put(k1, "v3") -> prev "v2"',
    );
    expect(d(command({ op: "put", key: "k1", value: "v3" }), { ok: true, prev: null })).toBe(
      'put(k1, "v3") -> prev none',
    );
    expect(d(query({ op: "get", key: "k1" }), { ok: true, value: null })).toBe(
      "query get(k1) -> none",
    );
    expect(d(command({ op: "del", key: "k1" }), { ok: true, existed: true })).toBe(
      "del(k1) -> existed",
    );
    expect(d(command({ op: "cas", key: "k1", expected: "a", value: null }), undefined)).toBe(
      'cas(k1, "a" => null) -> ?',
    );
    expect(
      d(command({ op: "cas", key: "k1", expected: "a", value: "b" }), { ok: false, value: "c" }),
    ).toBe('cas(k1, "a" => "b") -> failed, current "c"');
    expect(d(command({ op: "get", key: "k1" }), 42)).toBe("get(k1) -> 42");
    expect(d(command({ op: "nope" }), undefined)).toMatch(/^malformed command/);
  });
});

describe("kv workload", () => {
  const generate = (kit: typeof kvKit, seed: number, count: number, clients = 3) => {
    const random = createRandom(seed);
    return Array.from({ length: count }, (_, i) => kit.nextOperation(random, i % clients));
  };

  it("is a function of the seed, even for a kit shared between runs", () => {
    const first = generate(kvKit, 7, 300);
    expect(generate(kvKit, 7, 300)).toEqual(first);
    expect(generate(createKvKit(), 7, 300)).toEqual(first);
    expect(generate(kvKit, 8, 300)).not.toEqual(first);
  });

  it("generates valid operations in the intended mix, with unique written values", () => {
    const ops = generate(kvKit, 1, 4000);
    const counts = new Map<string, number>();
    const written = new Set<string>();
    for (const op of ops) {
      const validate = op.kind === "command" ? kvService.validateCommand : kvService.validateQuery;
      expect(validate(op.value)).toBeUndefined();
      const value = op.value as { op: string; key: string; value?: string | null };
      expect(["k0", "k1", "k2", "k3", "k4"]).toContain(value.key);
      const label = `${op.kind}:${value.op}`;
      counts.set(label, (counts.get(label) ?? 0) + 1);
      if (typeof value.value === "string") {
        expect(value.value).toHaveLength(8);
        expect(written.has(value.value)).toBe(false);
        written.add(value.value);
      }
    }
    const share = (label: string) => (counts.get(label) ?? 0) / ops.length;
    expect(share("command:put")).toBeCloseTo(0.3, 1);
    expect(share("query:get")).toBeCloseTo(0.25, 1);
    expect(share("command:get")).toBeCloseTo(0.1, 1);
    expect(share("command:del")).toBeCloseTo(0.1, 1);
    expect(share("command:cas")).toBeCloseTo(0.25, 1);
  });

  it("makes some compare-and-sets succeed, and the model accepts the run", () => {
    const ops = generate(kvKit, 3, 2000);
    const steps = runKv(ops);
    const cas = steps.filter((s) => (s.input.value as { op: string }).op === "cas");
    const succeeded = cas.filter((s) => (s.output as { ok: boolean }).ok).length;
    expect(succeeded).toBeGreaterThan(cas.length * 0.2);
    expect(succeeded).toBeLessThan(cas.length);
    expect(runModel(kvKit.model, steps).rejectedAt).toBe(-1);
  });

  it("honours its options and rejects bad ones", () => {
    const kit = createKvKit({ keys: 2, valueSize: 20, queryRatio: 0 });
    const ops = generate(kit, 5, 500);
    expect(ops.every((op) => op.kind === "command")).toBe(true);
    const keys = new Set(ops.map((op) => (op.value as { key: string }).key));
    expect([...keys].sort()).toEqual(["k0", "k1"]);
    const puts = ops.filter((op) => (op.value as { op: string }).op === "put");
    expect(puts.every((op) => (op.value as { value: string }).value.length === 20)).toBe(true);
    expect(() => createKvKit({ keys: 0 })).toThrow(RangeError);
    expect(() => createKvKit({ valueSize: 1.5 })).toThrow(RangeError);
    expect(() => createKvKit({ queryRatio: 2 })).toThrow(RangeError);
  });
});

describe("kv snapshots of large stores", () => {
  it("restores a store with more entries than the codec's message item limit", () => {
    const kv = kvService.create();
    const data = new Map<string, string>();
    for (let i = 0; i < 400_000; i++) data.set(`key-${i}`, "v");
    const bytes = encodeKvSnapshot(data);
    kv.restore(bytes);
    expect(kv.query?.({ op: "get", key: "key-399999" }, noClock)).toEqual({ ok: true, value: "v" });
    // Compared as a Buffer: vitest's deep equality walks a multi-megabyte array slowly.
    expect(Buffer.from(kv.snapshot()).equals(bytes)).toBe(true);
  });
});
