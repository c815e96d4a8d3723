import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRandom, type Random, Sfc32 } from "../../src/core/prng.js";

const take = (r: Random, n: number) => Array.from({ length: n }, () => r.u32());

describe("Sfc32", () => {
  it("replays the same sequence for the same seed", () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (seed) => {
        expect(take(createRandom(seed), 20)).toEqual(take(createRandom(seed), 20));
      }),
      { numRuns: 200 },
    );
  });

  it("gives different sequences for different seeds", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 1000; seed++) seen.add(take(createRandom(seed), 4).join(","));
    expect(seen.size).toBe(1000);
  });

  it("distinguishes seeds above 2^32 (the high bits count)", () => {
    const base = [0, 1, 12345, 0xffffffff];
    const seeds = base.flatMap((lo) => [lo, lo + 2 ** 32, lo + 2 ** 40, lo + 2 ** 52]);
    const streams = new Set(seeds.map((s) => take(createRandom(s), 4).join(",")));
    expect(streams.size).toBe(seeds.length);
    expect(take(createRandom(2 ** 53 - 1), 4)).not.toEqual(take(createRandom(2 ** 53 - 2), 4));
  });

  it("u32 gives 32-bit unsigned integers and next gives [0, 1)", () => {
    const r = createRandom(7);
    let bad = 0;
    let high = 0;
    for (let i = 0; i < 2000; i++) {
      const u = r.u32();
      if (!(Number.isInteger(u) && u >= 0 && u < 2 ** 32)) bad++;
      if (u >= 2 ** 31) high++;
      const x = r.next();
      if (!(x >= 0 && x < 1)) bad++;
    }
    expect(bad).toBe(0);
    expect(high).toBeGreaterThan(800); // the top bit is used
  });

  it("int(n) stays in [0, n) and is roughly uniform", () => {
    const r = createRandom(99);
    const n = 10;
    const draws = 20_000;
    const counts = new Array<number>(n).fill(0);
    let outside = 0;
    for (let i = 0; i < draws; i++) {
      const k = r.int(n);
      if (Number.isInteger(k) && k >= 0 && k < n) counts[k]!++;
      else outside++;
    }
    expect(outside).toBe(0);
    // chi-squared with 9 degrees of freedom: 27.9 is the 0.1% critical value
    const expected = draws / n;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.9);
    expect(createRandom(1).int(1)).toBe(0);
  });

  it("int rejects n <= 0 and NaN", () => {
    const r = createRandom(1);
    for (const n of [0, -1, Number.NaN]) expect(() => r.int(n)).toThrow(RangeError);
  });

  it("chance respects its bounds", () => {
    const r = createRandom(3);
    let hits = 0;
    let wrong = 0;
    for (let i = 0; i < 10_000; i++) {
      if (r.chance(0) || !r.chance(1)) wrong++;
      if (r.chance(0.25)) hits++;
    }
    expect(wrong).toBe(0);
    expect(hits).toBeGreaterThan(2200);
    expect(hits).toBeLessThan(2800);
  });

  it("fork is deterministic and independent of its parent's later use", () => {
    const a = createRandom(5);
    const b = createRandom(5);
    const fa = a.fork();
    const fb = b.fork();
    // the parent continues identically after forking, and using one stream does not move the other
    take(a, 50);
    expect(take(fa, 10)).toEqual(take(fb, 10));
    take(fa, 100);
    take(b, 50);
    expect(take(a, 10)).toEqual(take(b, 10));
  });

  it("forks differ from the parent and from each other", () => {
    const r = createRandom(11);
    const parentCopy = createRandom(11);
    const f1 = r.fork();
    const f2 = r.fork();
    const s1 = take(f1, 8);
    const s2 = take(f2, 8);
    expect(s1).not.toEqual(s2);
    expect(s1).not.toEqual(take(parentCopy, 8));
    // forking consumes parent output deterministically: two u32 per fork
    const p = createRandom(11);
    p.u32();
    p.u32();
    p.u32();
    p.u32();
    expect(r.u32()).toBe(p.u32());
  });

  it("is the class behind createRandom", () => {
    expect(take(new Sfc32(42), 5)).toEqual(take(createRandom(42), 5));
  });
});
