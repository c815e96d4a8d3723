import { describe, expect, it } from "vitest";
import type { Value } from "../../../src/core/value.js";
import { signPrePrepare, signPrepare } from "../../../src/protocols/pbft/authenticator.js";
import { PbftHarness } from "./core-harness.js";

/**
 * Reconfiguration (membership.ts, docs/protocols/pbft.md "Reconfiguration") message by message:
 * an address book of five replicas, K = 2 and L = 4, so a change executed at seq s takes effect
 * at the boundary e = the first even number ≥ s + 4.
 */
const small = {
  checkpointInterval: 2,
  windowSize: 4,
  requestTimeoutTicks: 10,
  viewChangeTicks: 10,
  maxInFlight: 8, // the primary fills up to the boundary with several slots in flight
};
const put = (key: string, value: number) => ({ op: "put", key, value });

/** Five replicas in the address book, `members` of them members; alice's session open (seq 1). */
function cluster(members: readonly number[]): PbftHarness {
  const h = new PbftHarness({ n: 5, settings: { ...small, members: [...members] } });
  h.tick();
  h.client(members[0]!, h.request("alice", 0, null));
  h.tick([members[0]!]);
  h.deliver({ quiet: true });
  return h;
}

/** Delivers everything, then ticks every replica, `rounds` times. */
function run(h: PbftHarness, rounds: number): void {
  for (let i = 0; i < rounds; i++) {
    h.deliver({ quiet: true });
    h.tick();
  }
  h.deliver({ quiet: true });
}

/** The lines of a step that are replies. */
function replies(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.includes("reply"))
    .map((l) => l.trim());
}

function members(h: PbftHarness, id: number): Value {
  const d = h.cores[id]!.status().details as { members: Value; membershipEpoch: Value };
  return { epoch: d.membershipEpoch, members: d.members };
}

describe("PbftCore reconfiguration", () => {
  it("add: ordered at s, the old members fill up to the boundary, then the added replica fetches the state and takes part (n = 5, f = 1)", () => {
    const h = cluster([0, 1, 2, 3]);
    h.client(0, h.adminRequest("alice", 1, { op: "add", replica: 4 }));
    h.tick([0]);
    const text = h.deliver();
    // Executed at seq 2: in effect after seq 6 (the first checkpoint ≥ 2 + L); every member answers.
    expect(replies(text)).toMatchInlineSnapshot(`
      [
        "0=>alice reply v=0 ts=1 full {"ok":true,"value":{"members":[0,1,2,3,4],"boundary":6}}",
        "1=>alice reply v=0 ts=1 full {"ok":true,"value":{"members":[0,1,2,3,4],"boundary":6}}",
        "2=>alice reply v=0 ts=1 full {"ok":true,"value":{"members":[0,1,2,3,4],"boundary":6}}",
        "3=>alice reply v=0 ts=1 full {"ok":true,"value":{"members":[0,1,2,3,4],"boundary":6}}",
      ]
    `);
    // With nothing else to order, the primary fills up to the boundary with null requests.
    expect(text.split("\n").filter((l) => l.startsWith("0->1 preprepare"))).toMatchInlineSnapshot(`
      [
        "0->1 preprepare v=0 s=2 t=2000 [alice#1] inline=1",
        "0->1 preprepare v=0 s=3 t=0 []",
        "0->1 preprepare v=0 s=4 t=0 []",
        "0->1 preprepare v=0 s=5 t=0 []",
        "0->1 preprepare v=0 s=6 t=0 []",
      ]
    `);
    run(h, 30);
    // Checkpoint 6 is stable: the five members started view 2^16, the first view of membership 1
    // (primary M'[65536 mod 5] = 1); replica 4 was sent the boundary's proof, fetched the state
    // at 6 and is a backup.
    expect(h.status()).toMatchInlineSnapshot(`
      "0: backup view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]
      1: primary view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]
      2: backup view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]
      3: backup view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]
      4: backup view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]"
    `);
    expect(members(h, 4)).toEqual({ epoch: 1, members: [0, 1, 2, 3, 4] });
    h.client(1, h.request("alice", 2, put("x", 1)));
    h.tick([1]);
    expect(replies(h.deliver())).toMatchInlineSnapshot(`
      [
        "1=>alice reply v=65536 ts=2 digest",
        "2=>alice reply v=65536 ts=2 full {"ok":true,"value":1}",
        "0=>alice reply v=65536 ts=2 digest",
        "3=>alice reply v=65536 ts=2 digest",
        "4=>alice reply v=65536 ts=2 digest",
      ]
    `);
  });

  it("remove: after the boundary the removed replica is a spare and its messages do not count", () => {
    const h = cluster([0, 1, 2, 3, 4]);
    h.client(0, h.adminRequest("alice", 1, { op: "remove", replica: 3 }));
    h.tick([0]);
    h.deliver({ quiet: true });
    run(h, 30);
    expect(h.status()).toMatchInlineSnapshot(`
      "0: primary view=65536 primary=0 executed=6 last=6 stable=6 window=(6,10]
      1: backup view=65536 primary=0 executed=6 last=6 stable=6 window=(6,10]
      2: backup view=65536 primary=0 executed=6 last=6 stable=6 window=(6,10]
      3: spare view=0 primary=- executed=6 last=6 stable=6 window=(6,10]
      4: backup view=65536 primary=0 executed=6 last=6 stable=6 window=(6,10]"
    `);
    expect(members(h, 0)).toEqual({ epoch: 1, members: [0, 1, 2, 4] });
    // Replica 3's prepare for the next seq of the view: refused, counted.
    const vote = signPrepare(h.keys.replica(3), {
      view: 65536,
      seq: 7,
      digest: new Uint8Array(32),
      replica: 3,
    });
    const before = h.cores[1]!.counters.rejected["not-a-member"];
    expect(h.inject(3, 1, vote)).toBe("");
    expect(h.cores[1]!.counters.rejected["not-a-member"]).toBe(before + 1);
    // n = 4 again: quorum 3, and the group goes on without replica 3.
    h.client(1, h.request("alice", 2, put("x", 1)));
    h.tick([1]);
    expect(replies(h.deliver())).toMatchInlineSnapshot(`
      [
        "0=>alice reply v=65536 ts=2 digest",
        "1=>alice reply v=65536 ts=2 digest",
        "2=>alice reply v=65536 ts=2 full {"ok":true,"value":1}",
        "4=>alice reply v=65536 ts=2 digest",
      ]
    `);
  });

  it("n = 4 → 5 → 4: add, then remove another once the first change is in effect", () => {
    const h = cluster([0, 1, 2, 3]);
    h.client(0, h.adminRequest("alice", 1, { op: "add", replica: 4 }));
    h.tick([0]);
    run(h, 30);
    h.client(1, h.adminRequest("alice", 2, { op: "remove", replica: 0 }));
    h.tick([1]);
    expect(replies(h.deliver())).toMatchInlineSnapshot(`
      [
        "1=>alice reply v=65536 ts=2 full {"ok":true,"value":{"members":[1,2,3,4],"boundary":12}}",
        "2=>alice reply v=65536 ts=2 full {"ok":true,"value":{"members":[1,2,3,4],"boundary":12}}",
        "0=>alice reply v=65536 ts=2 full {"ok":true,"value":{"members":[1,2,3,4],"boundary":12}}",
        "3=>alice reply v=65536 ts=2 full {"ok":true,"value":{"members":[1,2,3,4],"boundary":12}}",
        "4=>alice reply v=65536 ts=2 full {"ok":true,"value":{"members":[1,2,3,4],"boundary":12}}",
      ]
    `);
    run(h, 40);
    expect(h.status()).toMatchInlineSnapshot(`
      "0: spare view=65536 primary=- executed=12 last=12 stable=12 window=(12,16]
      1: primary view=131072 primary=1 executed=12 last=12 stable=12 window=(12,16]
      2: backup view=131072 primary=1 executed=12 last=12 stable=12 window=(12,16]
      3: backup view=131072 primary=1 executed=12 last=12 stable=12 window=(12,16]
      4: backup view=131072 primary=1 executed=12 last=12 stable=12 window=(12,16]"
    `);
    expect(members(h, 4)).toEqual({ epoch: 2, members: [1, 2, 3, 4] });
    h.client(2, h.request("alice", 3, put("y", 2)));
    run(h, 3);
    expect(h.cores.map((c) => c.status().commitIndex)).toMatchInlineSnapshot(`
      [
        12,
        13,
        13,
        13,
        13,
      ]
    `);
  });

  it("one change at a time; no fewer than 4 members; only strangers join and only members leave", () => {
    const h = cluster([0, 1, 2, 3]);
    h.client(0, h.adminRequest("alice", 1, { op: "remove", replica: 2 }));
    h.client(0, h.adminRequest("alice", 2, { op: "add", replica: 3 }));
    h.client(0, h.adminRequest("alice", 3, { op: "add", replica: 4 }));
    h.client(0, h.adminRequest("alice", 4, { op: "add", replica: 4 }));
    h.tick([0]);
    const answers = replies(h.deliver()).filter((l) => l.startsWith("0=>"));
    expect(answers).toMatchInlineSnapshot(`
      [
        "0=>alice reply v=0 ts=1 full {"ok":false,"error":"invalid","message":"pbft: removing replica 2 would leave 3 members; PBFT needs at least 4"}",
        "0=>alice reply v=0 ts=2 full {"ok":false,"error":"invalid","message":"pbft: replica 3 is already a member"}",
        "0=>alice reply v=0 ts=3 full {"ok":true,"value":{"members":[0,1,2,3,4],"boundary":8}}",
        "0=>alice reply v=0 ts=4 full {"ok":false,"error":"invalid","message":"pbft: a membership change is already pending (in effect after slot 8); ask again then"}",
      ]
    `);
  });

  it("nothing above a pending change's boundary is accepted, whoever proposes it", () => {
    const h = cluster([0, 1, 2, 3]);
    h.client(0, h.adminRequest("alice", 1, { op: "add", replica: 4 }));
    h.tick([0]);
    // Seqs 3 and 4 (null requests) execute and checkpoint 4 becomes stable; 5 and 6 are lost.
    h.deliver({ quiet: true, drop: (m) => m.msg.type === "preprepare" && m.msg.seq > 4 });
    // Without the change the window would be (4, 8]; the boundary caps it at 6.
    expect(h.status([1])).toMatchInlineSnapshot(
      `"1: backup view=0 primary=0 executed=4 last=4 stable=4 window=(4,6]"`,
    );
    // A faulty primary's proposal for seq 7, above the boundary 6 (inside h + L before the change).
    const pp = signPrePrepare(
      h.keys.replica(0),
      { view: 0, seq: 7, batch: { time: 0, requests: [] }, replica: 0 },
      [],
    );
    expect(h.inject(0, 1, pp)).toBe("");
    expect(h.cores[1]!.counters.rejected["outside-window"]).toBe(1);
  });

  it("a view change while a change is pending: the new primary (old members) re-issues up to the boundary, then the new members take over", () => {
    const h = cluster([0, 1, 2, 3]);
    h.client(0, h.adminRequest("alice", 1, { op: "add", replica: 4 }));
    h.tick([0]);
    // The primary's null requests never arrive: the backups' timer for the boundary fires.
    h.deliver({ quiet: true, drop: (m) => m.msg.type === "preprepare" && m.msg.seq > 2 });
    for (let i = 0; i < 25; i++) {
      h.tick([1, 2, 3]);
      h.deliver({ quiet: true, drop: (m) => m.from === 0 || m.to === 0 });
    }
    // Replicas 1-3 changed to view 1 of the old members (primary 1), which filled up to the
    // boundary (no NEW-VIEW of the old members names a slot above it); checkpoint 6 became
    // stable, and the new members asked for view 2^16, the first view of membership 1 (primary
    // M'[65536 mod 5] = 1), with its proof.
    expect(h.status()).toMatchInlineSnapshot(`
      "0: primary view=0 primary=0 executed=2 last=6 stable=2 window=(2,6]
      1: primary view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]
      2: backup view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]
      3: backup view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]
      4: backup view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]"
    `);
    // The old primary, cut off meanwhile, learns the boundary from the VIEW-CHANGEs it is sent,
    // fetches the state at 6 and joins the new members' view.
    run(h, 80);
    expect(h.status()).toMatchInlineSnapshot(`
      "0: backup view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]
      1: primary view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]
      2: backup view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]
      3: backup view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]
      4: backup view=65536 primary=1 executed=6 last=6 stable=6 window=(6,10]"
    `);
    expect(members(h, 0)).toEqual({ epoch: 1, members: [0, 1, 2, 3, 4] });
  });
});

describe("planted bug reconfig-at-execution", () => {
  /** A change (seq 2) and a put (seq 3) proposed together: backups accept 3 before 2 executes. */
  function changeWithPutBehind(bug?: "reconfig-at-execution"): PbftHarness {
    const h = new PbftHarness({
      n: 5,
      settings: { ...small, members: [0, 1, 2, 3], maxBatchRequests: 1 },
      ...(bug ? { bug } : {}),
    });
    h.tick();
    h.client(0, h.request("alice", 0, null));
    h.tick([0]);
    h.deliver({ quiet: true });
    h.client(0, h.adminRequest("alice", 1, { op: "add", replica: 4 }));
    h.client(0, h.request("alice", 2, put("x", 1)));
    h.tick([0]);
    return h;
  }

  it("with the boundary at the next checkpoint after s (2), slot 3 is already held: the ceiling's invariant throws", () => {
    const h = changeWithPutBehind("reconfig-at-execution");
    expect(() => h.deliver({ quiet: true })).toThrow(/slot 3 held above the membership boundary 2/);
  });

  it("the same run with the boundary at s + L (6) goes through", () => {
    const h = changeWithPutBehind();
    h.deliver({ quiet: true });
    expect(h.status([1])).toMatch(/executed=6 /);
  });
});
