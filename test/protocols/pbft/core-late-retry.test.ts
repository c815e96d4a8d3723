import { describe, expect, it } from "vitest";
import { PbftHarness } from "./core-harness.js";

/**
 * A client retries (§4.1: to every replica) when its replies are slow. A retry that reaches a
 * backup after the request executed there is held for the request timer and forwarded to the
 * primary, because replicas that lost their reply cache can only answer a re-ordered copy. The
 * primary must then order it again (a duplicate, answered from the session table); if it
 * ignored the forward, the backups' timers would fire on a request that already executed, and
 * the group would change view for nothing. On real processes this happened several times in a
 * ten-second, one-client benchmark: a lone backup sat in its view change for the rest of the run.
 */
const put = (key: string, value: number) => ({ op: "put", key, value });

function cluster(): PbftHarness {
  const h = new PbftHarness({
    settings: { requestTimeoutTicks: 4, viewChangeTicks: 4, retransmitTicks: 2 },
  });
  h.tick();
  return h;
}

describe("a client's retry that crosses the execution of its request", () => {
  it.each([
    ["the primary saw the retry before it executed", true],
    ["only the backups saw the retry", false],
  ])("%s: no view change, every replica executes a duplicate once", (_name, primarySees) => {
    const h = cluster();
    h.client(0, h.request("alice", 0, null));
    h.deliver({ quiet: true });
    const r1 = h.request("alice", 1, put("x", 1));
    h.client(0, r1);
    if (primarySees) h.client(0, r1); // the retry reaches the primary while r1 is in flight
    h.deliver({ quiet: true });
    expect(h.services.map((s) => s.appliedIndex)).toEqual([2, 2, 2, 2]);
    // The retry reaches the backups after they executed r1; the client has its answer and
    // sends nothing more.
    for (const b of [1, 2, 3]) h.client(b, r1);
    h.deliver({ quiet: true });
    for (let i = 0; i < 12; i++) {
      h.tick();
      h.deliver({ quiet: true });
    }
    expect(h.status()).not.toMatch(/view=[1-9]/);
    expect(h.status()).not.toMatch(/view-change/);
    // The forwarded retry was ordered once more: a duplicate the session table answered.
    expect(h.services.map((s) => s.appliedIndex)).toEqual([3, 3, 3, 3]);
  });
});
