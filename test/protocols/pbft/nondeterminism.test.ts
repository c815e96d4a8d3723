import { describe, expect, it } from "vitest";
import {
  checkProposedTime,
  proposeTime,
  seedFor,
} from "../../../src/protocols/pbft/nondeterminism.js";
import { digestOf, testCluster } from "./fixtures.js";

const c = testCluster(4);

describe("the primary's proposed time (§4.6)", () => {
  it.each([
    // proposed, previous, backup clock, bound → verdict
    [1000, 900, 1000, 50, "ok"],
    [1050, 900, 1000, 50, "ok"], // primary's clock ahead by exactly the bound
    [1051, 900, 1000, 50, "too-far-ahead"],
    [900, 900, 1000, 50, "ok"], // equal to the previous batch: time stands still
    [899, 900, 1000, 50, "before-previous"],
    [500, 400, 1000, 50, "ok"], // a slow primary clock is tolerated
    [2 ** 40, 0, 1000, 50, "too-far-ahead"], // a primary pushing time to expire every session
  ])(
    "proposed %i after %i, backup clock %i ± %i: %s",
    (proposed, previous, clock, bound, expected) => {
      const check = checkProposedTime(proposed, previous, clock, bound);
      expect(check.ok ? "ok" : check.reason).toBe(expected);
    },
  );

  it("the primary proposes its clock, but never below the previous time", () => {
    expect(proposeTime(1000.7, 900)).toBe(1000);
    expect(proposeTime(800, 900)).toBe(900);
  });

  it("a correct primary's proposal passes every correct backup whose clock is not behind by more than the bound", () => {
    for (const [primaryClock, backupClock] of [
      [1000, 1000],
      [1040, 1000],
      [1000, 1040],
    ] as const) {
      const t = proposeTime(primaryClock, 990);
      expect(checkProposedTime(t, 990, backupClock, 50).ok).toBe(true);
    }
  });
});

describe("seeds", () => {
  const d1 = digestOf("batch 1");
  const d2 = digestOf("batch 2");

  it("is a 32-bit unsigned integer fixed by (seq, batch digest)", () => {
    const s = seedFor(c.replica(0), 5, d1);
    expect(Number.isInteger(s) && s >= 0 && s <= 0xffffffff).toBe(true);
    expect(seedFor(c.replica(2), 5, d1)).toBe(s); // every replica derives the same
  });

  it("changes with the seq and with the batch, so the primary cannot reuse a seed", () => {
    const seeds = [
      seedFor(c.replica(0), 5, d1),
      seedFor(c.replica(0), 6, d1),
      seedFor(c.replica(0), 5, d2),
    ];
    expect(new Set(seeds).size).toBe(3);
  });

  it("is the first four bytes of SHA-256(domain ‖ 0e ‖ u64 seq ‖ digest), big-endian", () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode("lockstep-pbft/1"),
      0x0e,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      5,
      ...d1,
    ]);
    const h = c.replica(0).digest(bytes);
    expect(seedFor(c.replica(0), 5, d1)).toBe(Buffer.from(h).readUInt32BE(0));
  });
});
