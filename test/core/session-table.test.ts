import { describe, expect, it } from "vitest";
import type { ReplyResult } from "../../src/core/client-messages.js";
import { type SessionLimits, SessionTable } from "../../src/core/session-table.js";
import { decode, encode } from "../../src/platform/codec.js";

const limits: SessionLimits = { ttlMs: 100, maxSessions: 3, maxOutstanding: 2 };
const ok = (value: number): ReplyResult => ({ ok: true, value });

/** Runs one command through check/record the way ReplicatedService does. */
function run(
  t: SessionTable,
  client: string,
  seq: number,
  ackedBelow: number,
  now: number,
  value: number,
): ReplyResult {
  const d = t.check(client, seq, ackedBelow, now);
  if (d.kind === "answer") return d.result;
  t.record(client, seq, ok(value));
  return ok(value);
}

describe("SessionTable", () => {
  it("executes a seq once and answers a retry with the recorded result", () => {
    const t = new SessionTable(limits);
    t.open("a", 0);
    expect(t.check("a", 1, 1, 0)).toEqual({ kind: "execute" });
    t.record("a", 1, ok(10));
    expect(t.check("a", 1, 1, 1)).toEqual({ kind: "answer", result: ok(10), repeated: true });
    expect(() => t.record("a", 1, ok(11))).toThrow(/executed twice/);
  });

  it("forgets results below ackedBelow, then answers stale for them", () => {
    const t = new SessionTable({ ...limits, maxOutstanding: 10 });
    t.open("a", 0);
    run(t, "a", 1, 1, 0, 1);
    run(t, "a", 2, 1, 0, 2);
    expect(run(t, "a", 3, 3, 0, 3)).toEqual(ok(3));
    expect(t.check("a", 1, 3, 0)).toEqual({
      kind: "answer",
      result: { ok: false, error: "stale" },
    });
    expect(t.check("a", 2, 1, 0)).toEqual({
      kind: "answer",
      result: { ok: false, error: "stale" },
    });
    expect(t.check("a", 3, 3, 0)).toEqual({ kind: "answer", result: ok(3), repeated: true });
    // ackedBelow never moves back
    expect(t.check("a", 2, 1, 0).kind).toBe("answer");
  });

  it("answers session-expired for an unknown client", () => {
    const t = new SessionTable(limits);
    expect(t.check("ghost", 1, 1, 0)).toEqual({
      kind: "answer",
      result: { ok: false, error: "session-expired" },
    });
    expect(() => t.record("ghost", 1, ok(1))).toThrow(/unknown session/);
  });

  it("re-opening an open session keeps its results", () => {
    const t = new SessionTable(limits);
    t.open("a", 0);
    run(t, "a", 1, 1, 0, 7);
    expect(t.open("a", 5)).toEqual({ ok: true, value: null });
    expect(t.check("a", 1, 1, 5)).toEqual({ kind: "answer", result: ok(7), repeated: true });
  });

  it("expires sessions idle for longer than the ttl, by log time", () => {
    const t = new SessionTable(limits);
    t.open("a", 0);
    t.open("b", 50);
    t.expire(100); // a: 0 + 100 >= 100, kept
    expect(t.has("a")).toBe(true);
    t.expire(101);
    expect(t.has("a")).toBe(false);
    expect(t.has("b")).toBe(true);
    expect(t.check("a", 1, 1, 101).kind).toBe("answer");
    t.expire(151);
    expect(t.size).toBe(0);
  });

  it("activity postpones expiry", () => {
    const t = new SessionTable(limits);
    t.open("a", 0);
    t.open("b", 10);
    run(t, "a", 1, 1, 60, 1); // a active at 60, b still at 10
    t.expire(120);
    expect(t.has("a")).toBe(true);
    expect(t.has("b")).toBe(false);
  });

  it("evicts the least recently active session when full", () => {
    const t = new SessionTable(limits);
    t.open("a", 0);
    t.open("b", 1);
    t.open("c", 2);
    run(t, "a", 1, 1, 3, 1); // b is now the least recently active
    t.open("d", 4);
    expect(t.size).toBe(3);
    expect(t.has("b")).toBe(false);
    expect(["a", "c", "d"].every((c) => t.has(c))).toBe(true);
    t.open("e", 5);
    expect(t.has("c")).toBe(false);
  });

  it("refuses more than maxOutstanding unacknowledged results", () => {
    const t = new SessionTable(limits);
    t.open("a", 0);
    run(t, "a", 1, 1, 0, 1);
    run(t, "a", 2, 1, 0, 2);
    expect(t.check("a", 3, 1, 0)).toEqual({
      kind: "answer",
      result: { ok: false, error: "too-many-outstanding" },
    });
    // a retry of an executed seq is still answered
    expect(t.check("a", 2, 1, 0)).toEqual({ kind: "answer", result: ok(2), repeated: true });
    // acknowledging frees room
    expect(t.check("a", 3, 2, 0)).toEqual({ kind: "execute" });
  });

  it("round-trips through toValue/fromValue keeping results, acks and LRU order", () => {
    const t = new SessionTable(limits);
    t.open("a", 0);
    t.open("b", 1);
    run(t, "b", 2, 1, 2, 22);
    run(t, "b", 1, 1, 2, 11);
    run(t, "a", 1, 1, 3, 5);
    const v = decode(encode(t.toValue()));
    const u = SessionTable.fromValue(v, limits);
    expect(encode(u.toValue())).toEqual(encode(t.toValue()));
    expect(u.check("b", 2, 1, 4)).toEqual({ kind: "answer", result: ok(22), repeated: true });
    // LRU order survives: b (touched at 4 above) and a (3) — opening two more evicts a first
    u.open("c", 5);
    u.open("d", 6);
    expect(u.has("a")).toBe(false);
    expect(u.has("b")).toBe(true);
  });

  it("sorts results by seq in toValue so equal tables encode equally", () => {
    const t1 = new SessionTable({ ...limits, maxOutstanding: 5 });
    const t2 = new SessionTable({ ...limits, maxOutstanding: 5 });
    for (const t of [t1, t2]) t.open("a", 0);
    run(t1, "a", 1, 1, 0, 1);
    run(t1, "a", 2, 1, 0, 2);
    run(t2, "a", 2, 1, 0, 2);
    run(t2, "a", 1, 1, 0, 1);
    expect(encode(t1.toValue())).toEqual(encode(t2.toValue()));
  });

  it("fromValue rejects malformed snapshots", () => {
    expect(() => SessionTable.fromValue({}, limits)).toThrow();
    expect(() => SessionTable.fromValue([["a", 0, 1]], limits)).toThrow(/bad row/);
    expect(() => SessionTable.fromValue([[1, 0, 1, []]], limits)).toThrow(/bad row fields/);
    expect(() => SessionTable.fromValue([["a", 0, 1, [[1, 2]]]], limits)).toThrow(/bad result/);
  });
});
