import { describe, expect, it } from "vitest";
import { makeApplyContext } from "../../src/core/apply-context.js";

const draws = (seed: number, position: number, n = 5) => {
  const ctx = makeApplyContext(1, position, { time: 0, seed });
  return Array.from({ length: n }, () => ctx.random());
};

describe("makeApplyContext", () => {
  it("carries index, position and the entry time", () => {
    const ctx = makeApplyContext(12, 3, { time: 987_654, seed: 1 });
    expect(ctx.index).toBe(12);
    expect(ctx.position).toBe(3);
    expect(ctx.now()).toBe(987_654);
    expect(ctx.now()).toBe(987_654);
  });

  it("random() is deterministic per (seed, position)", () => {
    expect(draws(42, 0)).toEqual(draws(42, 0));
    expect(draws(0xffffffff, 255)).toEqual(draws(0xffffffff, 255));
    for (const x of draws(42, 3, 100)) expect(x >= 0 && x < 1).toBe(true);
    // the stream does not depend on the index or time
    const a = makeApplyContext(1, 2, { time: 0, seed: 9 });
    const b = makeApplyContext(500, 2, { time: 77, seed: 9 });
    expect([a.random(), a.random()]).toEqual([b.random(), b.random()]);
  });

  it("random() differs across positions of a batch and across seeds", () => {
    const seen = new Set<string>();
    for (let position = 0; position < 256; position++) seen.add(draws(42, position, 3).join());
    expect(seen.size).toBe(256);
    const seeds = new Set<string>();
    for (let seed = 0; seed < 256; seed++) seeds.add(draws(seed, 0, 3).join());
    expect(seeds.size).toBe(256);
    expect(draws(1, 0)).not.toEqual(draws(2, 0));
  });

  it("successive calls advance one stream", () => {
    const [x, y] = draws(5, 0, 2);
    expect(x).not.toBe(y);
  });
});
