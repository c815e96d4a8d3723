import { describe, expect, it } from "vitest";
import type { InFlight } from "./core-harness.js";
import { PbftHarness } from "./core-harness.js";

/**
 * The backups' request timer (OSDI'99 §4.4) measures time without progress: it restarts at every
 * execution while requests are still held. A saturated group that keeps executing is therefore
 * not replaced because one request waited long in the primary's queue (the old per-request age
 * did that under load on real processes). A primary that orders everyone's requests but one
 * client's is still replaced once that request has waited maxRequestWaitTicks.
 */
const put = (key: string, value: number) => ({ op: "put", key, value });
const bobToPrimary = (m: InFlight) =>
  m.to === 0 && m.msg.type === "request" && m.msg.client === "bob";

function cluster(): PbftHarness {
  const h = new PbftHarness({
    settings: {
      requestTimeoutTicks: 4,
      maxRequestWaitTicks: 20,
      viewChangeTicks: 40,
      retransmitTicks: 50,
      maxBatchRequests: 1,
    },
  });
  h.tick();
  h.client(0, h.request("alice", 0, null));
  h.deliver({ quiet: true });
  return h;
}

describe("the request timer", () => {
  it("does not fire while the group executes other requests, until the overall bound", () => {
    const h = cluster();
    // Bob's request reaches only the backups, and their forwards never reach the primary: the
    // primary (as if faulty) never orders it, while alice's requests execute every tick.
    for (const b of [1, 2, 3]) h.client(b, h.request("bob", 1, put("b", 1)));
    h.deliver({ quiet: true, drop: bobToPrimary });
    let t = 0;
    const step = () => {
      t++;
      h.tick();
      h.client(0, h.request("alice", t, put("a", t)));
      h.deliver({ quiet: true, drop: bobToPrimary });
    };
    while (t < 15) step(); // far past requestTimeoutTicks (4), below maxRequestWaitTicks (20)
    expect(h.status()).not.toMatch(/view=[1-9]|view-change/);
    expect(h.services[1]!.appliedIndex).toBe(16);
    while (t < 24) step();
    // Bob's request waited 20 ticks: the backups give up on the primary.
    expect(h.status([1, 2, 3])).toMatch(/view=[1-9]/);
  });

  it("fires after requestTimeoutTicks when nothing executes", () => {
    const h = cluster();
    for (const b of [1, 2, 3]) h.client(b, h.request("bob", 1, put("b", 1)));
    h.deliver({ quiet: true, drop: bobToPrimary });
    for (let i = 0; i < 3; i++) {
      h.tick();
      h.deliver({ quiet: true, drop: bobToPrimary });
    }
    expect(h.status()).not.toMatch(/view=[1-9]/);
    h.tick();
    h.deliver({ quiet: true, drop: bobToPrimary });
    expect(h.status([1, 2, 3])).toMatch(/view=[1-9]/);
  });

  it("stops for a held copy that the client's later requests made moot", () => {
    const h = cluster();
    // Replica 1 holds a copy of alice's ts 1 that never gets ordered as such (other bytes: here
    // another op, as a faulty or restarted client might send), and its forward is lost.
    h.client(1, h.request("alice", 1, put("stale", 0)));
    h.lose((m) => m.from === 1 && m.to === 0 && m.msg.type === "request");
    // Alice's real ts 1, then ts 2 saying it waits for nothing below 2, execute everywhere.
    h.client(0, h.request("alice", 1, put("a", 1)));
    h.deliver({ quiet: true });
    h.client(0, h.request("alice", 2, put("a", 2), { ackedBelow: 2 }));
    h.deliver({ quiet: true });
    expect(h.services[1]!.appliedIndex).toBe(3);
    for (let i = 0; i < 12; i++) {
      h.tick();
      h.deliver({ quiet: true });
    }
    expect(h.status()).not.toMatch(/view=[1-9]|view-change/);
  });
});
