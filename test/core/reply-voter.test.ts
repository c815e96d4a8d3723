import { describe, expect, it } from "vitest";
import { ReplyVoter } from "../../src/core/reply-voter.js";

const members = new Set([0, 1, 2, 3]); // PBFT n = 4, f = 1

describe("ReplyVoter", () => {
  it("accepts once f+1 distinct replicas sent matching replies, never before", () => {
    const voter = new ReplyVoter<string>(2, members);
    expect(voter.add(0, "d1", "result-1")).toBeUndefined();
    expect(voter.decided).toBe(false);
    expect(voter.add(1, "d1", "result-1")).toBe("result-1");
    expect(voter.decided).toBe(true);
    // Later replies do not change an accepted result.
    expect(voter.add(2, "d2", "other")).toBe("result-1");
  });

  it("counts a replica once however often it repeats itself", () => {
    const voter = new ReplyVoter<string>(2, members);
    expect(voter.add(0, "d1", "r")).toBeUndefined();
    expect(voter.add(0, "d1", "r")).toBeUndefined();
    expect(voter.add(0, "d1", "r")).toBeUndefined();
    expect(voter.voters).toBe(1);
  });

  it("a replica's newer reply replaces its older one (tentative answers may change)", () => {
    const voter = new ReplyVoter<string>(3, members);
    voter.add(0, "a", "A");
    voter.add(1, "a", "A");
    voter.add(0, "b", "B"); // replica 0 changed its mind: "a" has one vote left
    expect(voter.add(2, "a", "A")).toBeUndefined();
    expect(voter.add(3, "a", "A")).toBe("A");
  });

  it("ignores replies from outside the configuration (forged senders)", () => {
    const voter = new ReplyVoter<string>(2, members);
    expect(voter.add(7, "d", "x")).toBeUndefined();
    expect(voter.add(9, "d", "x")).toBeUndefined();
    expect(voter.add(1, "d", "x")).toBeUndefined();
    expect(voter.voters).toBe(1);
  });

  it("2f+1 for read-only: f faulty replicas agreeing on a lie cannot reach it", () => {
    const voter = new ReplyVoter<string>(3, members);
    expect(voter.add(3, "lie", "forged")).toBeUndefined(); // the one faulty replica
    expect(voter.add(0, "truth", "t")).toBeUndefined();
    expect(voter.add(1, "truth", "t")).toBeUndefined();
    expect(voter.add(2, "truth", "t")).toBe("t");
  });

  it("knows when no result can reach the threshold any more (fall back to ordered)", () => {
    const voter = new ReplyVoter<string>(3, members);
    voter.add(0, "a", "A");
    voter.add(1, "b", "B");
    expect(voter.hopeless).toBe(false); // two silent replicas could still join "a"
    voter.add(2, "c", "C");
    expect(voter.hopeless).toBe(true);
  });

  it("refuses thresholds that could never be met or that accept nothing", () => {
    expect(() => new ReplyVoter(0, members)).toThrow(/positive integer/);
    expect(() => new ReplyVoter(5, members)).toThrow(/exceeds the 4 replicas/);
  });
});
