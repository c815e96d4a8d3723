import { describe, expect, it } from "vitest";
import { ClientFairness } from "../../src/runtime/client-fairness.js";

const put = (client: string, seq: number) => ({
  type: "request",
  client,
  seq,
  ackedBelow: 1,
  cmd: { op: "put", key: "k", value: "v" },
});

describe("per-client fairness limits", () => {
  it("answers busy with a retry hint over the outstanding limit, per principal, until replies free room", () => {
    const f = new ClientFairness({ outstanding: 2, sessions: 10, bytesPerSecond: 1e9 });
    expect(f.admit("flood", put("flood.a", 1), 10, 0, 0)).toBeUndefined();
    expect(f.admit("flood", put("flood.b", 1), 10, 0, 0)).toBeUndefined();
    // A retry of a counted request is not a new one.
    expect(f.admit("flood", put("flood.a", 1), 10, 0, 0)).toBeUndefined();
    const refused = f.admit("flood", put("flood.a", 2), 10, 0, 0);
    expect(refused).toMatchObject({
      type: "reply",
      client: "flood.a",
      seq: 2,
      result: { ok: false, error: "busy", leader: 0 },
    });
    expect(refused?.result.ok === false && refused.result.retryAfterMs).toBeGreaterThan(0);
    // Another principal is not affected.
    expect(f.admit("quiet", put("quiet", 1), 10, 0, 0)).toBeUndefined();
    f.answered({ type: "reply", client: "flood.a", seq: 1, result: { ok: true, value: null } });
    expect(f.admit("flood", put("flood.a", 2), 10, 0, 0)).toBeUndefined();
    expect(f.refused.outstanding).toBe(1);
  });

  it("limits the sessions one principal speaks for and the bytes it sends per second", () => {
    const f = new ClientFairness({ outstanding: 100, sessions: 1, bytesPerSecond: 1000 });
    expect(f.admit("a", put("a.1", 1), 600, 0, 0)).toBeUndefined();
    expect(f.admit("a", put("a.2", 1), 10, 0, 0)?.result).toMatchObject({ error: "busy" });
    expect(f.refused.sessions).toBe(1);
    const over = f.admit("a", put("a.1", 2), 600, 100, 0);
    // 1000 - 600 - 10 (the refused frame counts too) + 100 refilled = 490: 110 ms short of 600.
    expect(over?.result).toMatchObject({ error: "busy", retryAfterMs: 110 });
    // A second later the bucket is full again.
    expect(f.admit("a", put("a.1", 2), 600, 1100, 0)).toBeUndefined();
  });
});
