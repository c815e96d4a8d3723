import { describe, expect, it } from "vitest";
import { authorizationPayload } from "../../src/core/admin-authorization.js";
import { toHex } from "../../src/core/crypto.js";
import type { LogEntry, LoggedCommand } from "../../src/core/log-entry.js";
import { type AppliedCommand, ReplicatedService } from "../../src/core/replicated-service.js";
import type { SessionLimits } from "../../src/core/session-table.js";
import type { AnyServiceDefinition, StateMachine } from "../../src/core/state-machine.js";
import type { Value } from "../../src/core/value.js";
import { decode, encode } from "../../src/platform/codec.js";
import { kvService } from "../../src/state-machines/kv/index.js";

/**
 * A counter whose every execution is visible: "inc" returns the new count, so a command that
 * ran twice shows up as a skipped number. "boom" throws after incrementing.
 */
class Counter implements StateMachine<Value, Value> {
  count = 0;
  apply(cmd: Value): Value {
    this.count++;
    if (cmd === "boom") throw new Error("kaboom");
    if (cmd === "deep") {
      let v: Value = "bottom";
      for (let i = 0; i < 28; i++) v = [v];
      return v;
    }
    return this.count;
  }
  query(q: Value): Value {
    if (q === "fail") throw new Error("query failed");
    return this.count;
  }
  snapshot(): Uint8Array {
    return encode(this.count);
  }
  restore(snapshot: Uint8Array): void {
    this.count = decode(snapshot) as number;
  }
}

const counterDef: AnyServiceDefinition = {
  name: "test-counter",
  create: () => new Counter(),
  validateCommand: (cmd) =>
    cmd === "inc" || cmd === "boom" || cmd === "deep" ? undefined : "unknown command",
  validateQuery: (q) => (q === "get" || q === "fail" ? undefined : "unknown query"),
};

const limits: SessionLimits = { ttlMs: 1000, maxSessions: 10, maxOutstanding: 4 };

function entry(index: number, time: number, commands: LoggedCommand[] = []): LogEntry {
  return { index, term: 1, time, seed: index * 7, payload: { type: "commands", commands } };
}
const open = (client: string): LoggedCommand => ({ client, seq: 0, ackedBelow: 0, cmd: null });
const cmd = (client: string, seq: number, c: Value = "inc", ackedBelow = 1): LoggedCommand => ({
  client,
  seq,
  ackedBelow,
  cmd: c,
});

/** Feeds entries in order, numbering them from appliedIndex + 1. */
function feed(s: ReplicatedService, time: number, ...batches: LoggedCommand[][]): AppliedCommand[] {
  const out: AppliedCommand[] = [];
  for (const b of batches) out.push(...s.applyEntry(entry(s.appliedIndex + 1, time, b)));
  return out;
}
const results = (applied: AppliedCommand[]) => applied.map((a) => a.result);

describe("ReplicatedService exactly-once", () => {
  it("opens a session and executes each seq once, answering duplicates from the cache", () => {
    const s = new ReplicatedService(counterDef, limits);
    const applied = feed(s, 0, [open("a"), cmd("a", 1)], [cmd("a", 1), cmd("a", 2)], [cmd("a", 1)]);
    expect(applied.map((a) => [a.index, a.client, a.seq])).toEqual([
      [1, "a", 0],
      [1, "a", 1],
      [2, "a", 1],
      [2, "a", 2],
      [3, "a", 1],
    ]);
    expect(results(applied)).toEqual([
      { ok: true, value: null },
      { ok: true, value: 1 },
      { ok: true, value: 1 },
      { ok: true, value: 2 },
      { ok: true, value: 1 },
    ]);
    expect(s.query("get")).toEqual({ ok: true, value: 2 });
    expect(s.appliedIndex).toBe(3);
  });

  it("dedups a duplicate within one batch", () => {
    const s = new ReplicatedService(counterDef, limits);
    const applied = feed(s, 0, [open("a"), cmd("a", 1), cmd("a", 1)]);
    expect(results(applied).slice(1)).toEqual([
      { ok: true, value: 1 },
      { ok: true, value: 1 },
    ]);
    expect(s.query("get")).toEqual({ ok: true, value: 1 });
  });

  it("forgets acknowledged results: an old seq then answers stale", () => {
    const s = new ReplicatedService(counterDef, limits);
    feed(s, 0, [open("a"), cmd("a", 1), cmd("a", 2)]);
    const applied = feed(s, 0, [cmd("a", 3, "inc", 3), cmd("a", 1, "inc", 3)]);
    expect(results(applied)).toEqual([
      { ok: true, value: 3 },
      { ok: false, error: "stale" },
    ]);
    expect(s.query("get")).toEqual({ ok: true, value: 3 });
  });

  it("answers session-expired for a client that never opened a session", () => {
    const s = new ReplicatedService(counterDef, limits);
    expect(results(feed(s, 0, [cmd("x", 1)]))).toEqual([{ ok: false, error: "session-expired" }]);
    expect(s.query("get")).toEqual({ ok: true, value: 0 });
  });

  it("expires sessions deterministically by entry time", () => {
    const s = new ReplicatedService(counterDef, limits);
    feed(s, 0, [open("a"), open("b")]);
    feed(s, 600, [cmd("b", 1)]);
    expect(s.sessionCount).toBe(2);
    feed(s, 1000, []); // a last active at 0: 0 + 1000 >= 1000 keeps it
    expect(results(feed(s, 1000, [cmd("a", 1)]))).toEqual([{ ok: true, value: 2 }]);
    // an entry without commands still advances log time and expires
    feed(s, 2001, []);
    expect(s.sessionCount).toBe(0);
    expect(results(feed(s, 2001, [cmd("a", 2)]))).toEqual([
      { ok: false, error: "session-expired" },
    ]);
  });

  it("noop and config entries advance the index and expire sessions", () => {
    const s = new ReplicatedService(counterDef, limits);
    feed(s, 0, [open("a")]);
    expect(
      s.applyEntry({ index: 2, term: 1, time: 5000, seed: 0, payload: { type: "noop" } }),
    ).toEqual([]);
    expect(
      s.applyEntry({
        index: 3,
        term: 1,
        time: 5000,
        seed: 0,
        payload: { type: "config", config: 1 },
      }),
    ).toEqual([]);
    expect(s.appliedIndex).toBe(3);
    expect(s.sessionCount).toBe(0);
  });

  it("evicts the least recently active session beyond maxSessions", () => {
    const s = new ReplicatedService(counterDef, { ...limits, maxSessions: 2 });
    feed(s, 0, [open("a"), open("b")]);
    feed(s, 1, [cmd("a", 1)]);
    feed(s, 2, [open("c")]); // evicts b
    expect(results(feed(s, 3, [cmd("b", 1), cmd("a", 2), cmd("c", 1)]))).toEqual([
      { ok: false, error: "session-expired" },
      { ok: true, value: 2 },
      { ok: true, value: 3 },
    ]);
  });

  it("refuses a command beyond maxOutstanding without executing it", () => {
    const s = new ReplicatedService(counterDef, { ...limits, maxOutstanding: 2 });
    const applied = feed(s, 0, [open("a"), cmd("a", 1), cmd("a", 2), cmd("a", 3)]);
    expect(results(applied).at(-1)).toEqual({ ok: false, error: "too-many-outstanding" });
    expect(s.query("get")).toEqual({ ok: true, value: 2 });
    // after acknowledging, seq 3 runs
    expect(results(feed(s, 0, [cmd("a", 3, "inc", 2)]))).toEqual([{ ok: true, value: 3 }]);
  });

  it("answers invalid for a malformed command, without executing it, and caches that", () => {
    const s = new ReplicatedService(counterDef, limits);
    const applied = feed(s, 0, [open("a"), cmd("a", 1, { bad: true }), cmd("a", 1, "inc")]);
    const invalid = { ok: false, error: "invalid", message: "unknown command" };
    expect(results(applied).slice(1)).toEqual([invalid, invalid]);
    expect(s.query("get")).toEqual({ ok: true, value: 0 });
  });

  it("answers apply-failed when the state machine throws, keeping its partial effect", () => {
    const s = new ReplicatedService(counterDef, limits);
    const applied = feed(s, 0, [open("a"), cmd("a", 1, "boom"), cmd("a", 2)]);
    expect(results(applied).slice(1)).toEqual([
      { ok: false, error: "apply-failed", message: "kaboom" },
      { ok: true, value: 2 },
    ]);
    // the retry is answered from the cache, not run again
    expect(results(feed(s, 0, [cmd("a", 1, "boom")]))).toEqual([
      { ok: false, error: "apply-failed", message: "kaboom" },
    ]);
  });

  it("validates and guards queries", () => {
    const s = new ReplicatedService(counterDef, limits);
    expect(s.query("nope")).toEqual({ ok: false, error: "invalid", message: "unknown query" });
    expect(s.query("fail")).toEqual({ ok: false, error: "apply-failed", message: "query failed" });
    const noQueries: AnyServiceDefinition = {
      ...counterDef,
      create: () => {
        const c = new Counter();
        return {
          apply: (x) => c.apply(x as Value),
          snapshot: () => c.snapshot(),
          restore: () => {},
        };
      },
    };
    expect(new ReplicatedService(noQueries, limits).query("get")).toMatchObject({
      ok: false,
      error: "invalid",
    });
  });

  it("throws on an entry out of order", () => {
    const s = new ReplicatedService(counterDef, limits);
    expect(() => s.applyEntry(entry(2, 0))).toThrow(/out of order/);
    s.applyEntry(entry(1, 0));
    expect(() => s.applyEntry(entry(1, 0))).toThrow(/out of order/);
    expect(() => s.applyEntry(entry(3, 0))).toThrow(/out of order/);
    expect(s.appliedIndex).toBe(1);
  });

  it("passes the entry's nondeterminism to the state machine", () => {
    const seen: [number, number, number, number][] = [];
    const def: AnyServiceDefinition = {
      ...counterDef,
      create: () => ({
        apply: (_c, ctx) => {
          seen.push([ctx.index, ctx.position, ctx.now(), ctx.random()]);
          return null;
        },
        snapshot: () => new Uint8Array(),
        restore: () => {},
      }),
    };
    const s = new ReplicatedService(def, limits);
    feed(s, 42, [open("a"), cmd("a", 1), cmd("a", 2)]);
    expect(seen.map((x) => x.slice(0, 3))).toEqual([
      [1, 1, 42],
      [1, 2, 42],
    ]);
    expect(seen[0]![3]).not.toBe(seen[1]![3]);
  });
});

describe("ReplicatedService snapshots", () => {
  function busy(def: AnyServiceDefinition, l: SessionLimits = limits): ReplicatedService {
    const s = new ReplicatedService(def, l);
    feed(s, 0, [open("a"), open("b")]);
    feed(s, 10, [cmd("a", 1), cmd("b", 1)]);
    feed(s, 20, [cmd("a", 2), cmd("b", 2, "inc", 2)]);
    return s;
  }

  it("restores sessions: a duplicate after restore returns the cached result", () => {
    const s = busy(counterDef);
    const r = new ReplicatedService(counterDef, limits);
    r.restore(s.snapshot());
    expect(r.appliedIndex).toBe(3);
    expect(r.sessionCount).toBe(2);
    expect(r.query("get")).toEqual({ ok: true, value: 4 });
    const applied = feed(r, 30, [cmd("a", 1), cmd("b", 1, "inc", 2), cmd("a", 3)]);
    expect(results(applied)).toEqual([
      { ok: true, value: 1 },
      { ok: false, error: "stale" },
      { ok: true, value: 5 },
    ]);
  });

  it("gives byte-identical snapshots after restore, and identical futures", () => {
    for (const def of [counterDef, kvService as unknown as AnyServiceDefinition]) {
      const s = new ReplicatedService(def, limits);
      const c = (client: string, seq: number, key: string): LoggedCommand =>
        cmd(client, seq, def === counterDef ? "inc" : { op: "put", key, value: `${client}${seq}` });
      feed(s, 0, [open("a"), open("b")]);
      feed(s, 5, [c("a", 1, "x"), c("b", 1, "y")], [c("b", 2, "x")]);
      const snap = s.snapshot();
      const r = new ReplicatedService(def, limits);
      r.restore(snap);
      expect(toHex(r.snapshot())).toBe(toHex(snap));
      const next = [c("a", 2, "z"), c("b", 1, "q"), c("a", 1, "x")];
      expect(feed(r, 9, next)).toEqual(feed(s, 9, next));
      expect(toHex(r.snapshot())).toBe(toHex(s.snapshot()));
    }
  });

  it("rejects a malformed snapshot and keeps its state", () => {
    const s = busy(counterDef);
    const before = s.snapshot();
    expect(() => s.restore(encode([1, 2]))).toThrow(/bad envelope/);
    expect(() => s.restore(encode([1, [], "not bytes"]))).toThrow(/bad fields/);
    expect(() => s.restore(new Uint8Array([0xc1, 0xc1]))).toThrow();
    expect(toHex(s.snapshot())).toBe(toHex(before));
  });

  // BUG: restore() decodes the snapshot with the *network* Value schema (depth <= 32, <= 2^20
  // items). The session table nests each cached result 5 levels down, so a result nested 28 deep
  // (legal as a Value, produced by the service, never checked) makes the service's own snapshot
  // unrestorable. The same happens once the session table holds more than 2^20 items.
  it("can restore every snapshot it takes (deeply nested cached result)", () => {
    const s = new ReplicatedService(counterDef, limits);
    feed(s, 0, [open("a"), cmd("a", 1, "deep")]);
    const r = new ReplicatedService(counterDef, limits);
    r.restore(s.snapshot());
    expect(toHex(r.snapshot())).toBe(toHex(s.snapshot()));
  });
});

describe("ReplicatedService queries see the agreed clock", () => {
  const clockDef: AnyServiceDefinition = {
    name: "clock",
    create: () => ({
      apply: () => null,
      query: (_q, ctx) => ({ index: ctx.index, now: ctx.now() }),
      snapshot: () => new Uint8Array(),
      restore: () => {},
    }),
    validateCommand: () => undefined,
    validateQuery: () => undefined,
  };

  it("answers with the index and time of the last applied entry, also after a restore", () => {
    const s = new ReplicatedService(clockDef, limits);
    expect(s.query("now")).toEqual({ ok: true, value: { index: 0, now: 0 } });
    feed(s, 500, [open("a")]);
    feed(s, 1_250, [cmd("a", 1)]);
    expect(s.query("now")).toEqual({ ok: true, value: { index: 2, now: 1_250 } });
    const copy = new ReplicatedService(clockDef, limits);
    copy.restore(s.snapshot());
    expect(copy.query("now")).toEqual({ ok: true, value: { index: 2, now: 1_250 } });
  });
});

describe("ReplicatedService membership authorizations", () => {
  const authorization = (index: number, aid: number, ackedBelow?: number): LogEntry => ({
    index,
    term: 1,
    time: 0,
    seed: index,
    payload: authorizationPayload({
      by: "admin",
      aid,
      op: { op: "add", replica: 4 },
      ...(ackedBelow === undefined ? {} : { ackedBelow }),
    }),
  });

  it("a repeat of a session's request is answered from the session table, marked repeated", () => {
    const s = new ReplicatedService(counterDef, limits);
    feed(s, 0, [open("admin")]);
    s.applyEntry(authorization(2, 1, 1));
    // The same request ordered again (a retry, or a faulty primary replaying it), and later
    // after another change: never authorized a second time.
    s.applyEntry(authorization(3, 1, 1));
    s.applyEntry(authorization(4, 2, 1));
    s.applyEntry(authorization(5, 1, 2));
    expect(s.takeAdminResults()).toEqual([
      { index: 2, client: "admin", aid: 1, result: { ok: true, value: null } },
      { index: 3, client: "admin", aid: 1, result: { ok: true, value: null }, repeated: true },
      { index: 4, client: "admin", aid: 2, result: { ok: true, value: null } },
      // Acknowledged since (ackedBelow 2): the session forgot it and calls it stale.
      { index: 5, client: "admin", aid: 1, result: { ok: false, error: "stale" } },
    ]);
  });

  it("without a session acknowledgement (Raft's admin requests), each entry is authorized", () => {
    const s = new ReplicatedService(counterDef, limits);
    s.applyEntry(authorization(1, 1));
    s.applyEntry(authorization(2, 1));
    expect(s.takeAdminResults().map((a) => a.repeated)).toEqual([undefined, undefined]);
  });
});
