import { describe, expect, it } from "vitest";
import { Batcher } from "../../../src/protocols/pbft/batcher.js";
import { digestOf } from "./fixtures.js";

const limits = { maxRequests: 3, maxBytes: 100, maxQueued: 5, maxInFlight: 2 };
const d = (name: string) => digestOf(name);

function filled(sizes: Record<string, number>): Batcher<string> {
  const b = new Batcher<string>(limits);
  for (const [name, size] of Object.entries(sizes))
    expect(b.enqueue(d(name), size, name)).toEqual({ accepted: true });
  return b;
}

describe("batching", () => {
  it("takes requests in arrival order, at most maxRequests per batch", () => {
    const b = filled({ a: 1, b: 1, c: 1, d: 1 });
    expect(b.nextBatch(1, 10, 0)).toEqual({ seq: 1, items: ["a", "b", "c"], bytes: 3 });
    expect(b.nextBatch(2, 10, 1)).toEqual({ seq: 2, items: ["d"], bytes: 1 });
    expect(b.nextBatch(3, 10, 0)).toBeUndefined();
  });

  it("stops before the byte limit, but always takes at least one request", () => {
    const b = filled({ a: 60, b: 50, c: 100 });
    expect(b.nextBatch(1, 10, 0)?.items).toEqual(["a"]);
    expect(b.nextBatch(2, 10, 0)?.items).toEqual(["b"]);
    expect(b.nextBatch(3, 10, 0)?.items).toEqual(["c"]);
  });

  it("sends an item marked alone in a batch of its own (PBFT access changes)", () => {
    const b = new Batcher<string>(limits, (item) => item.startsWith("admin"));
    for (const name of ["a", "admin1", "b", "c", "admin2"])
      expect(b.enqueue(d(name), 1, name)).toEqual({ accepted: true });
    const batches: string[][] = [];
    for (let seq = 1; seq <= 6; seq++) {
      const next = b.nextBatch(seq, 10, 0);
      if (next) batches.push([...next.items]);
    }
    expect(batches).toEqual([["a"], ["admin1"], ["b", "c"], ["admin2"]]);
  });

  it("refuses a request larger than a batch, a duplicate, and more than maxQueued", () => {
    const b = filled({ a: 1, b: 1, c: 1, d: 1, e: 1 });
    expect(b.enqueue(d("f"), 1, "f")).toEqual({ accepted: false, reason: "queue-full" });
    expect(b.enqueue(d("a"), 1, "a")).toEqual({ accepted: false, reason: "duplicate" });
    expect(new Batcher<string>(limits).enqueue(d("big"), 101, "big")).toEqual({
      accepted: false,
      reason: "too-large",
    });
  });

  it("a request may be queued again once it left in a batch (a retransmission after a view change)", () => {
    const b = filled({ a: 1 });
    b.nextBatch(1, 10, 0);
    expect(b.has(d("a"))).toBe(false);
    expect(b.enqueue(d("a"), 1, "a")).toEqual({ accepted: true });
  });

  it("remove drops requests ordered elsewhere", () => {
    const b = filled({ a: 1, b: 1, c: 1 });
    b.remove([d("b"), d("zzz")]);
    expect(b.queued).toBe(2);
    expect(b.nextBatch(1, 10, 0)?.items).toEqual(["a", "c"]);
  });
});

describe("pipelining", () => {
  it.each([
    // nextSeq, high water mark, in flight → may propose
    [5, 10, 0, true],
    [10, 10, 1, true],
    [11, 10, 0, false], // beyond H = h + L
    [5, 10, 2, false], // pipeline full
  ])("seq %i, H %i, %i in flight: %s", (seq, high, inFlight, expected) => {
    const b = filled({ a: 1 });
    expect(b.canPropose(seq, high, inFlight)).toBe(expected);
    expect(b.nextBatch(seq, high, inFlight) !== undefined).toBe(expected);
  });

  it("while the pipeline is full requests accumulate into one larger batch", () => {
    const b = filled({ a: 1 });
    expect(b.nextBatch(1, 10, 0)?.items).toEqual(["a"]);
    for (const name of ["b", "c", "d"]) b.enqueue(d(name), 1, name);
    expect(b.nextBatch(2, 10, 2)).toBeUndefined();
    expect(b.nextBatch(2, 10, 1)?.items).toEqual(["b", "c", "d"]);
  });

  it("rejects limits below 1", () => {
    expect(() => new Batcher({ ...limits, maxInFlight: 0 })).toThrow(RangeError);
  });
});
