import { describe, expect, it } from "vitest";
import { type InFlight, PbftHarness } from "./core-harness.js";

/**
 * A correct replica that restarts while the group is healthy moves to the next view (the restart
 * rule) and waits there: its view-change timer starts only once 2f+1 VIEW-CHANGEs for that view
 * arrived (OSDI'99 §4.5.2), so it does not run ahead through views alone. When the primary then
 * fails, the three correct replicas meet in one view and commit again. (Found by this test: with
 * the timer started at sending, one restart plus one fault stopped a 3f+1 = 4 cluster.)
 */
describe("a replica restarted in a healthy group", () => {
  it("is back in time for the group to survive the next fault", () => {
    const h = new PbftHarness({
      settings: {
        checkpointInterval: 4,
        windowSize: 8,
        requestTimeoutTicks: 10,
        viewChangeTicks: 10,
        maxViewChangeTicks: 40,
        retransmitTicks: 3,
      },
    });
    h.tick();
    h.client(0, h.request("alice", 0, null));
    h.deliver({ quiet: true });
    h.restart(3);
    let ts = 1;
    // 200 ticks of normal operation (a put every 10 ticks) with replica 3 back.
    for (let i = 0; i < 200; i++) {
      h.tick();
      h.deliver({ quiet: true });
      if (i % 10 === 0) {
        h.client(0, h.request("alice", ts++, { op: "put", key: "x", value: i }));
        h.deliver({ quiet: true });
      }
    }
    // A replica alone in asking for a view change has no reason to go beyond the next view.
    expect.soft(h.cores[3]!.status().term).toBeLessThanOrEqual(1);
    // Then the primary fails; replicas 1, 2 and 3 (2f+1, all correct) must go on. The client
    // sends each request to all of them.
    const before = [1, 2, 3].map((id) => h.services[id]!.appliedIndex);
    const dead = (m: InFlight) => m.from === 0 || m.to === 0;
    for (let i = 0; i < 1000; i++) {
      h.tick([1, 2, 3]);
      h.deliver({ quiet: true, drop: dead });
      if (i % 10 === 0) {
        const r = h.request("alice", ts++, { op: "put", key: "y", value: i });
        for (const id of [1, 2, 3]) h.client(id, r);
        h.deliver({ quiet: true, drop: dead });
      }
    }
    const views = [1, 2, 3].map((id) => h.cores[id]!.status());
    expect.soft(views.map((s) => s.role)).not.toContain("view-change");
    const after = [1, 2, 3].map((id) => h.services[id]!.appliedIndex);
    expect(after.every((a, i) => a > before[i]!)).toBe(true);
  });
});
