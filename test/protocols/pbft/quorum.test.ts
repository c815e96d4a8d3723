import { describe, expect, it } from "vitest";
import {
  distinctReplicas,
  faultsTolerated,
  isReplica,
  primaryOf,
  quorumsFor,
  quorumsForMembers,
  replicasFor,
} from "../../../src/protocols/pbft/quorum.js";

describe("replica counts", () => {
  it.each([
    // n, f, quorum, weak, prepares
    [1, 0, 1, 1, 0],
    [4, 1, 3, 2, 2],
    [5, 1, 4, 2, 3],
    [6, 1, 4, 2, 3],
    [7, 2, 5, 3, 4],
    [10, 3, 7, 4, 6],
    [13, 4, 9, 5, 8],
  ])("n=%i: f=%i, quorum=%i, weak=%i, prepares=%i", (n, f, quorum, weak, prepares) => {
    const members = Array.from({ length: n }, (_, i) => i);
    expect(quorumsFor(n)).toEqual({ n, members, f, quorum, weak, prepares });
  });

  it("n(f) = 3f+1 and f(n(f)) = f", () => {
    for (let f = 0; f < 20; f++) {
      expect(replicasFor(f)).toBe(3 * f + 1);
      expect(faultsTolerated(replicasFor(f))).toBe(f);
      expect(quorumsFor(replicasFor(f)).quorum).toBe(2 * f + 1);
    }
  });

  it("any two quorums share a correct replica, and the correct replicas alone form a quorum", () => {
    for (let n = 1; n <= 40; n++) {
      const { f, quorum } = quorumsFor(n);
      expect(2 * quorum - n).toBeGreaterThanOrEqual(f + 1);
      expect(n - f).toBeGreaterThanOrEqual(quorum);
    }
  });

  it("rejects nonsense sizes", () => {
    expect(() => faultsTolerated(0)).toThrow(RangeError);
    expect(() => replicasFor(-1)).toThrow(RangeError);
    expect(() => replicasFor(1.5)).toThrow(RangeError);
  });
});

describe("primary and membership", () => {
  it("the primary is view mod n", () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((v) => primaryOf(v, 4))).toEqual([0, 1, 2, 3, 0, 1, 1]);
  });

  it("isReplica accepts 0..n-1 only", () => {
    expect([-1, 0, 3, 4, 1.5].map((id) => isReplica(id, 4))).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
  });

  it("distinctReplicas counts, and refuses a duplicate or a stranger instead of undercounting", () => {
    expect(distinctReplicas([0, 2, 3], 4)).toBe(3);
    expect(distinctReplicas([], 4)).toBe(0);
    expect(distinctReplicas([0, 2, 2], 4)).toBeUndefined();
    expect(distinctReplicas([0, 4], 4)).toBeUndefined();
  });

  it("with member ids (spares outside): primaries rotate over the members, strangers are refused", () => {
    const q = quorumsForMembers([4, 0, 2, 1]);
    expect(q).toMatchObject({ n: 4, members: [0, 1, 2, 4], f: 1, quorum: 3 });
    expect([0, 1, 2, 3, 4].map((v) => primaryOf(v, q.members))).toEqual([0, 1, 2, 4, 0]);
    expect([0, 3, 4].map((id) => isReplica(id, q.members))).toEqual([true, false, true]);
    expect(distinctReplicas([0, 2, 4], q.members)).toBe(3);
    expect(distinctReplicas([0, 2, 3], q.members)).toBeUndefined();
    expect(quorumsForMembers([0, 1, 2, 3, 5])).toMatchObject({ n: 5, f: 1, quorum: 4 });
    expect(() => quorumsForMembers([0, 1, 1, 2])).toThrow(/twice/);
  });
});
