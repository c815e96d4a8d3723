import { describe, expect, it } from "vitest";
import { signPrepare } from "../../../src/protocols/pbft/authenticator.js";
import { PbftHarness } from "./core-harness.js";

/**
 * PbftSettings.members: an address book of five replicas of which four are members (0, 1, 2 and
 * 4). Replica 3 is a spare: nobody sends it anything, it answers nothing, and the members' f and
 * quorums are those of n = 4. Primaries and designated repliers rotate over the members only.
 */
const settings = { checkpointInterval: 2, windowSize: 4, members: [4, 0, 1, 2] };

const put = (key: string, value: number) => ({ op: "put", key, value });

describe("PbftCore with a spare outside the membership", () => {
  it("orders among the members only; the spare drops what it is sent", () => {
    const h = new PbftHarness({ n: 5, settings });
    h.client(0, h.request("alice", 0, null));
    h.client(0, h.request("alice", 1, put("x", 7)));
    h.take();
    expect(h.tick()).toMatchInlineSnapshot(`
      "0->1 preprepare v=0 s=1 t=1000 [alice#0,alice#1] inline=2
      0->2 preprepare v=0 s=1 t=1000 [alice#0,alice#1] inline=2
      0->4 preprepare v=0 s=1 t=1000 [alice#0,alice#1] inline=2
      1: persist#1 hardState {"view":0}
      2: persist#1 hardState {"view":0}
      3: persist#1 hardState {"view":0}
      4: persist#1 hardState {"view":0}"
    `);
    h.deliver({ quiet: true });
    expect(h.status()).toMatchInlineSnapshot(`
      "0: primary view=0 primary=0 executed=1 last=1 stable=0 window=(0,4]
      1: backup view=0 primary=0 executed=1 last=1 stable=0 window=(0,4]
      2: backup view=0 primary=0 executed=1 last=1 stable=0 window=(0,4]
      3: spare view=0 primary=- executed=0 last=0 stable=0 window=(0,4]
      4: backup view=0 primary=0 executed=1 last=1 stable=0 window=(0,4]"
    `);
    // The spare's votes do not count (its keys are real: it is simply not a member).
    const pp = h.cores[0]!.status();
    expect(pp.commitIndex).toBe(1);
    const spareVote = signPrepare(h.keys.replica(3), {
      view: 0,
      seq: 2,
      digest: new Uint8Array(32),
      replica: 3,
    });
    expect(h.inject(3, 1, spareVote)).toBe("");
    expect(h.cores[1]!.counters.rejected["not-a-member"]).toBe(1);
    // A client that reaches the spare is not answered, and it is counted.
    expect(h.client(3, h.request("alice", 2, put("y", 1)))).toBe("");
    expect(h.cores[3]!.counters.rejected["not-a-member"]).toBe(1);
  });

  it("the designated replier of timestamp t is the member at t mod n", () => {
    const h = new PbftHarness({ n: 5, settings });
    h.tick();
    h.client(0, h.request("alice", 0, null));
    h.deliver({ quiet: true });
    h.tick([0]);
    h.deliver({ quiet: true });
    h.client(0, h.request("alice", 3, put("x", 7)));
    h.tick([0]);
    const lines = h.deliver().split("\n");
    expect(lines.filter((l) => l.includes("reply")).map((l) => l.trim())).toMatchInlineSnapshot(`
      [
        "0=>alice reply v=0 ts=3 digest",
        "1=>alice reply v=0 ts=3 digest",
        "2=>alice reply v=0 ts=3 digest",
        "4=>alice reply v=0 ts=3 full {"ok":true,"value":7}",
      ]
    `);
    expect(lines.some((l) => /->3 |^3->|3=>/.test(l.trim()))).toBe(false);
  });
});
