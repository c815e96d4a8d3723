import { describe, expect, it } from "vitest";
import {
  applyChange,
  boundaryFor,
  initialMembership,
  type MembershipRecord,
  membersFor,
  membershipValue,
  readMembership,
  settle,
} from "../../../src/protocols/pbft/membership.js";
import { quorumsForMembers } from "../../../src/protocols/pbft/quorum.js";

/** K = 2, L = 4, an address book of 6 replicas. */
const params = { interval: 2, windowSize: 4, replicaCount: 6 };
const four = initialMembership([0, 1, 2, 3]);

function pending(record: MembershipRecord, op: "add" | "remove", replica: number, at: number) {
  const verdict = applyChange(record, { op, replica }, at, params);
  if (!verdict.ok) throw new Error(verdict.message);
  return verdict.record;
}

describe("the boundary of a membership change", () => {
  it("is the first checkpoint multiple at or above s + L", () => {
    expect([1, 2, 3, 4, 5, 6].map((s) => boundaryFor(s, params))).toEqual([6, 6, 8, 8, 10, 10]);
  });

  it("lies above every slot a correct replica can have accepted before executing s", () => {
    // Accepting slot t needs t ≤ h + L, h a stable checkpoint ≤ the executed seq < s.
    for (const interval of [1, 2, 4, 8]) {
      for (const windowSize of [2 * interval, 3 * interval, 8 * interval]) {
        for (let s = 1; s <= 40; s++) {
          const e = boundaryFor(s, { interval, windowSize });
          expect(e % interval).toBe(0);
          for (let h = 0; h < s; h += interval) expect(h + windowSize).toBeLessThanOrEqual(e);
        }
      }
    }
  });
});

describe("applying a membership change", () => {
  it("add: pending until the boundary, then in effect; f derives from the new n", () => {
    const r = pending(four, "add", 4, 3);
    expect(r.pending).toEqual({ members: [0, 1, 2, 3, 4], boundary: 8, at: 3 });
    expect(r.members).toEqual([0, 1, 2, 3]);
    expect(settle(r, 6)).toBe(r);
    const five = settle(r, 8);
    expect(five).toEqual({ epoch: 1, members: [0, 1, 2, 3, 4], since: 8, previous: [0, 1, 2, 3] });
    expect(quorumsForMembers(five.members)).toMatchObject({ n: 5, f: 1, quorum: 4, weak: 2 });
  });

  it("n = 4 → 5 → 4: remove after add, replica ids need not be contiguous", () => {
    const five = settle(pending(four, "add", 5, 1), 6);
    const back = settle(pending(five, "remove", 1, 7), 12);
    expect(back).toEqual({
      epoch: 2,
      members: [0, 2, 3, 5],
      since: 12,
      previous: [0, 1, 2, 3, 5],
    });
  });

  it("refuses, with a reason, what would be unsafe or meaningless", () => {
    const refusal = (r: MembershipRecord, op: "add" | "remove", replica: number) => {
      const v = applyChange(r, { op, replica }, 9, params);
      return v.ok ? "accepted" : v.message;
    };
    expect(refusal(four, "remove", 2)).toBe(
      "removing replica 2 would leave 3 members; PBFT needs at least 4",
    );
    expect(refusal(four, "add", 2)).toBe("replica 2 is already a member");
    expect(refusal(four, "remove", 4)).toBe("replica 4 is not a member");
    expect(refusal(four, "add", 6)).toBe("replica 6 is not in the address book");
    expect(refusal(four, "add", -1)).toBe("replica -1 is not in the address book");
    expect(refusal(pending(four, "add", 4, 1), "add", 5)).toBe(
      "a membership change is already pending (in effect after slot 6); ask again then",
    );
  });
});

describe("which members order a slot", () => {
  it("the old ones up to the boundary, the new ones above it only once it is stable here", () => {
    const r = pending(initialMembership([0, 1, 2, 3, 4]), "remove", 0, 2);
    expect(r.pending?.boundary).toBe(6);
    expect(membersFor(r, 6, 4)).toEqual([0, 1, 2, 3, 4]);
    expect(membersFor(r, 7, 4)).toBeUndefined();
    expect(membersFor(r, 7, 6)).toEqual([1, 2, 3, 4]);
    const settled = settle(r, 6);
    expect(membersFor(settled, 6, 6)).toBeUndefined();
    expect(membersFor(settled, 7, 6)).toEqual([1, 2, 3, 4]);
  });
});

describe("the stored record", () => {
  it("round-trips through its Value form, pending change included", () => {
    const r = pending(four, "add", 4, 3);
    expect(readMembership(membershipValue(r), 6)).toEqual(r);
    expect(readMembership(membershipValue(four), 6)).toEqual(four);
    const settled = settle(r, 8);
    expect(readMembership(membershipValue(settled), 6)).toEqual(settled);
  });

  it("refuses a corrupt one with a clear error", () => {
    expect(() => readMembership({ epoch: 0, members: [0, 1, 2], since: 0 }, 6)).toThrow(
      /too few members/,
    );
    expect(() => readMembership({ epoch: 0, members: [0, 1, 3, 2], since: 0 }, 6)).toThrow(
      /out of order/,
    );
    expect(() => readMembership({ epoch: 0, members: [0, 1, 2, 9], since: 0 }, 6)).toThrow(
      /address book/,
    );
    expect(() => readMembership({ epoch: -1, members: [0, 1, 2, 3], since: 0 }, 6)).toThrow(
      /bad epoch/,
    );
    expect(() => readMembership("x", 6)).toThrow(/not a record/);
  });
});
