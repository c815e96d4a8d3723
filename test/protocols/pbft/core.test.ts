import { describe, expect, it } from "vitest";
import {
  makeCommit,
  signPrePrepare,
  signPrepare,
  verifyReply,
} from "../../../src/protocols/pbft/authenticator.js";
import type { Commit, Prepare } from "../../../src/protocols/pbft/messages.js";
import { seedFor } from "../../../src/protocols/pbft/nondeterminism.js";
import { batchDigest, nullBatch, requestDigest } from "../../../src/protocols/pbft/signed-bytes.js";
import { stateDigest } from "../../../src/protocols/pbft/state-digest.js";
import { buildNewView, planNewView } from "../../../src/protocols/pbft/view-change.js";
import { type InFlight, PbftHarness } from "./core-harness.js";

/**
 * The PBFT orchestrator (PbftCore) message by message: four replicas driven by hand through
 * core-harness.ts, every output of a step printed and compared in full. Small K and L
 * (checkpointInterval 2, windowSize 4) so checkpoints and water marks show up in a few requests.
 */
const small = { checkpointInterval: 2, windowSize: 4 };

const put = (key: string, value: number) => ({ op: "put", key, value });

/** A started cluster: every replica ticked once (booted, clock running). */
function started(settings: Record<string, number | boolean> = small, autoPersist = true) {
  const h = new PbftHarness({ settings, autoPersist });
  h.tick();
  return h;
}

/** Orders alice's session and one put in seq 1, and delivers everything. */
function orderOne(h: PbftHarness): void {
  h.client(0, h.request("alice", 0, null));
  h.client(0, h.request("alice", 1, put("x", 7)));
  h.deliver({ quiet: true });
}

describe("PbftCore normal case", () => {
  it("a request at the primary waits for the first tick, then becomes one PRE-PREPARE", () => {
    const h = new PbftHarness({ settings: small });
    // Before any tick the primary has no clock to propose a time from: it only boots.
    expect(h.client(0, h.request("alice", 0, null))).toMatchInlineSnapshot(
      `"0: persist#1 hardState {"view":0}"`,
    );
    expect(h.client(0, h.request("alice", 1, put("x", 7)))).toMatchInlineSnapshot(`""`);
    // The first tick batches both requests into seq 1, at the primary's clock.
    expect(h.tick([0])).toMatchInlineSnapshot(`
      "0->1 preprepare v=0 s=1 t=1000 [alice#0,alice#1] inline=2
      0->2 preprepare v=0 s=1 t=1000 [alice#0,alice#1] inline=2
      0->3 preprepare v=0 s=1 t=1000 [alice#0,alice#1] inline=2"
    `);
  });

  it("backups PREPARE, everyone persists the certificate, COMMITs, executes and replies", () => {
    const h = new PbftHarness({ settings: { checkpointInterval: 8, windowSize: 16 } });
    h.client(0, h.request("alice", 0, null));
    h.client(0, h.request("alice", 1, put("x", 7)));
    h.tick();
    expect(h.deliver()).toMatchInlineSnapshot(`
      "0->1 preprepare v=0 s=1 t=1000 [alice#0,alice#1] inline=2
        1->0 prepare v=0 s=1 [alice#0,alice#1]
        1->2 prepare v=0 s=1 [alice#0,alice#1]
        1->3 prepare v=0 s=1 [alice#0,alice#1]
      0->2 preprepare v=0 s=1 t=1000 [alice#0,alice#1] inline=2
        2->0 prepare v=0 s=1 [alice#0,alice#1]
        2->1 prepare v=0 s=1 [alice#0,alice#1]
        2->3 prepare v=0 s=1 [alice#0,alice#1]
      0->3 preprepare v=0 s=1 t=1000 [alice#0,alice#1] inline=2
        3->0 prepare v=0 s=1 [alice#0,alice#1]
        3->1 prepare v=0 s=1 [alice#0,alice#1]
        3->2 prepare v=0 s=1 [alice#0,alice#1]
      1->0 prepare v=0 s=1 [alice#0,alice#1]
      1->2 prepare v=0 s=1 [alice#0,alice#1]
        2: persist#2 put cert/1 v=0 [alice#0,alice#1] bodies=2
        2->0 commit v=0 s=1 [alice#0,alice#1]
        2->1 commit v=0 s=1 [alice#0,alice#1]
        2->3 commit v=0 s=1 [alice#0,alice#1]
      1->3 prepare v=0 s=1 [alice#0,alice#1]
        3: persist#2 put cert/1 v=0 [alice#0,alice#1] bodies=2
        3->0 commit v=0 s=1 [alice#0,alice#1]
        3->1 commit v=0 s=1 [alice#0,alice#1]
        3->2 commit v=0 s=1 [alice#0,alice#1]
      2->0 prepare v=0 s=1 [alice#0,alice#1]
        0: persist#2 put cert/1 v=0 [alice#0,alice#1] bodies=2
        0->1 commit v=0 s=1 [alice#0,alice#1]
        0->2 commit v=0 s=1 [alice#0,alice#1]
        0->3 commit v=0 s=1 [alice#0,alice#1]
      2->1 prepare v=0 s=1 [alice#0,alice#1]
        1: persist#2 put cert/1 v=0 [alice#0,alice#1] bodies=2
        1->0 commit v=0 s=1 [alice#0,alice#1]
        1->2 commit v=0 s=1 [alice#0,alice#1]
        1->3 commit v=0 s=1 [alice#0,alice#1]
      2->3 prepare v=0 s=1 [alice#0,alice#1]
      3->0 prepare v=0 s=1 [alice#0,alice#1]
      3->1 prepare v=0 s=1 [alice#0,alice#1]
      3->2 prepare v=0 s=1 [alice#0,alice#1]
      2->0 commit v=0 s=1 [alice#0,alice#1]
      2->1 commit v=0 s=1 [alice#0,alice#1]
      2->3 commit v=0 s=1 [alice#0,alice#1]
      3->0 commit v=0 s=1 [alice#0,alice#1]
        0: apply s=1 t=1000 seed=256492721 alice#0,alice#1
        0=>alice reply v=0 ts=0 full {"ok":true,"value":null}
        0=>alice reply v=0 ts=1 digest
      3->1 commit v=0 s=1 [alice#0,alice#1]
        1: apply s=1 t=1000 seed=256492721 alice#0,alice#1
        1=>alice reply v=0 ts=0 full {"ok":true,"value":null}
        1=>alice reply v=0 ts=1 full {"ok":true,"value":7}
      3->2 commit v=0 s=1 [alice#0,alice#1]
      0->1 commit v=0 s=1 [alice#0,alice#1]
      0->2 commit v=0 s=1 [alice#0,alice#1]
        2: apply s=1 t=1000 seed=256492721 alice#0,alice#1
        2=>alice reply v=0 ts=0 full {"ok":true,"value":null}
        2=>alice reply v=0 ts=1 digest
      0->3 commit v=0 s=1 [alice#0,alice#1]
        3: apply s=1 t=1000 seed=256492721 alice#0,alice#1
        3=>alice reply v=0 ts=0 full {"ok":true,"value":null}
        3=>alice reply v=0 ts=1 digest
      1->0 commit v=0 s=1 [alice#0,alice#1]
      1->2 commit v=0 s=1 [alice#0,alice#1]
      1->3 commit v=0 s=1 [alice#0,alice#1]"
    `);
    expect(h.status()).toMatchInlineSnapshot(`
      "0: primary view=0 primary=0 executed=1 last=1 stable=0 window=(0,16]
      1: backup view=0 primary=0 executed=1 last=1 stable=0 window=(0,16]
      2: backup view=0 primary=0 executed=1 last=1 stable=0 window=(0,16]
      3: backup view=0 primary=0 executed=1 last=1 stable=0 window=(0,16]"
    `);
  });

  it("execution carries the batch's time and the seed derived from (seq, batch digest)", () => {
    const h = started();
    h.skew[0] = 500; // the primary's clock is ahead of the backups' by less than the bound
    h.tick([0]);
    const open = h.request("alice", 0, null);
    h.client(0, open);
    const out = h.deliver();
    const applies = out.split("\n").filter((l) => l.includes("apply"));
    // The primary proposed its own clock (2 ticks + 500 ms); every replica applies that time and
    // the seed SHA-256(seq, batch digest) gives, computed here independently.
    const crypto = h.keys.replica(0);
    const batch = { time: 2500, requests: [requestDigest(crypto, open)] };
    const seed = seedFor(crypto, 1, batchDigest(crypto, batch));
    expect(applies).toEqual(
      [0, 1, 2, 3].map((id) => `  ${id}: apply s=1 t=2500 seed=${seed} alice#0`),
    );
  });

  it("COMMIT leaves only after the prepared certificate is durable", () => {
    const h = started(small, false);
    for (const id of h.all()) h.flush(id); // the boot records
    h.client(0, h.request("alice", 0, null));
    // Replica 3 is slow: nothing it sends arrives, so replica 1 needs its own COMMIT to commit.
    const from3 = (m: InFlight) => m.from === 3;
    for (let i = 0; i < 3; i++) {
      h.deliver({ drop: from3, quiet: true });
      for (const id of [0, 2]) h.flush(id);
    }
    // Replica 1 prepared: its certificate is not yet on disk, so its COMMIT is held and not counted.
    expect(h.unflushed[1]).toHaveLength(1);
    expect(h.services[1]!.appliedIndex).toBe(0);
    expect(h.held[1]!.map((x) => h.show(x.m.msg))).toMatchInlineSnapshot(`
      [
        "commit v=0 s=1 [alice#0]",
        "commit v=0 s=1 [alice#0]",
        "commit v=0 s=1 [alice#0]",
      ]
    `);
    // Once durable: the COMMITs leave and its own counts, so it executes.
    expect(h.flush(1)).toMatchInlineSnapshot(`
      "1: apply s=1 t=1000 seed=2179633191 alice#0
      1=>alice reply v=0 ts=0 full {"ok":true,"value":null}"
    `);
  });
});

describe("PbftCore execution and replies", () => {
  it("executes in sequence-number order even when seq 2 commits first", () => {
    const h = started();
    h.client(0, h.request("alice", 0, null));
    h.client(0, h.request("alice", 1, put("x", 1)));
    // Every COMMIT for seq 1 to replica 3 is held back until seq 2 has committed there.
    const late: InFlight[] = [];
    const hold = (m: InFlight) => {
      const keep = m.to === 3 && m.msg.type === "commit" && m.msg.seq === 1;
      if (keep) late.push(m);
      return keep;
    };
    const first = h.deliver({ drop: hold }).split("\n");
    expect(first.filter((l) => l.startsWith("  3: apply"))).toEqual([]);
    expect(h.status([3])).toMatchInlineSnapshot(
      `"3: backup view=0 primary=0 executed=0 last=0 stable=2 window=(0,4]"`,
    );
    h.network.push(...late);
    expect(h.deliver()).toMatchInlineSnapshot(`
      "2->3 commit v=0 s=1 [alice#0]
      0->3 commit v=0 s=1 [alice#0]
        3: apply s=1 t=1000 seed=2179633191 alice#0
        3: apply s=2 t=1000 seed=2346871726 alice#1
        3: takeSnapshot s=2
        3=>alice reply v=0 ts=0 full {"ok":true,"value":null}
        3=>alice reply v=0 ts=1 digest
        3->0 checkpoint s=2 r=3 state=a70c92
        3->1 checkpoint s=2 r=3 state=a70c92
        3->2 checkpoint s=2 r=3 state=a70c92
        3: persist#4 snapshot s=2 proof=3; delete cert/1; delete cert/2
      1->3 commit v=0 s=1 [alice#0]
        3->1 checkpoint s=2 r=0 state=a70c92
        3->1 checkpoint s=2 r=1 state=a70c92
        3->1 checkpoint s=2 r=2 state=a70c92
      3->0 checkpoint s=2 r=3 state=a70c92
      3->1 checkpoint s=2 r=3 state=a70c92
      3->2 checkpoint s=2 r=3 state=a70c92
      3->1 checkpoint s=2 r=0 state=a70c92
      3->1 checkpoint s=2 r=1 state=a70c92
      3->1 checkpoint s=2 r=2 state=a70c92"
    `);
  });

  it("replies are MAC'd for their client; one designated replica sends the full result", () => {
    const h = started({ checkpointInterval: 8, windowSize: 16 });
    orderOne(h);
    const replies = h.replies.get("alice")!;
    // Each replica replies to both requests; full from replica (timestamp mod n), digests otherwise.
    expect(
      replies.map((r) => `${r.replica}:${r.timestamp}:${r.full ? "full" : "digest"}`).sort(),
    ).toMatchInlineSnapshot(`
      [
        "0:0:full",
        "0:1:digest",
        "1:0:full",
        "1:1:full",
        "2:0:full",
        "2:1:digest",
        "3:0:full",
        "3:1:digest",
      ]
    `);
    const alice = h.keys.client("alice");
    const bob = h.keys.client("bob");
    for (const r of replies) {
      expect(verifyReply(alice, r).ok).toBe(true);
      // The MAC is for alice: bob cannot check it, and a reply re-addressed to bob fails.
      expect(verifyReply(bob, { ...r, client: "bob" }).ok).toBe(false);
      // A replica that lies about the result is caught against the digest it MAC'd.
      if (r.full)
        expect(verifyReply(alice, { ...r, result: { ok: true, value: 8 } }).ok).toBe(false);
    }
  });

  it("a retransmitted request that already executed is answered from the reply cache, in full", () => {
    const h = started({ checkpointInterval: 8, windowSize: 16 });
    orderOne(h);
    expect(h.client(2, h.request("alice", 1, put("x", 7)))).toMatchInlineSnapshot(
      `
      "2=>alice reply v=0 ts=1 full {"ok":true,"value":7}
      2->0 request alice#1"
    `,
    );
  });

  it("a read-only request becomes a query output at the replica that got it, answered in full", () => {
    const h = started({ checkpointInterval: 8, windowSize: 16 });
    orderOne(h);
    expect(
      h.client(3, h.request("alice", 2, { get: "x" }, { readOnly: true })),
    ).toMatchInlineSnapshot(`
      "3: query alice q={"get":"x"} at=2
      3=>alice reply v=0 ts=2 full {"ok":true,"value":7}"
    `);
    // Forwarded by a peer it is ignored: reads are answered only to the client that asked.
    expect(h.inject(0, 1, h.request("alice", 3, { get: "x" }, { readOnly: true }))).toBe("");
    // A read-only request whose op is a command is malformed.
    const bad = { ...h.request("alice", 5, put("x", 9)), readOnly: true };
    expect(h.client(2, bad)).toBe("");
    expect(h.drops(2)).toMatchObject({ malformed: 1, auth: 0 });
  });
});

describe("PbftCore checkpoints", () => {
  it("every K: takeSnapshot, CHECKPOINT, 2f+1 make it stable, the snapshot is persisted and certificates deleted", () => {
    const h = started({ ...small, maxInFlight: 2 }); // both slots in flight at once
    h.client(0, h.request("alice", 0, null));
    h.client(0, h.request("alice", 1, put("x", 1)));
    const out = h.deliver().split("\n");
    expect(out.filter((l) => /^ {2}1(:|->)/.test(l))).toMatchInlineSnapshot(`
      [
        "  1->0 prepare v=0 s=1 [alice#0]",
        "  1->2 prepare v=0 s=1 [alice#0]",
        "  1->3 prepare v=0 s=1 [alice#0]",
        "  1->0 prepare v=0 s=2 [alice#1]",
        "  1->2 prepare v=0 s=2 [alice#1]",
        "  1->3 prepare v=0 s=2 [alice#1]",
        "  1: persist#2 put cert/1 v=0 [alice#0] bodies=1",
        "  1->0 commit v=0 s=1 [alice#0]",
        "  1->2 commit v=0 s=1 [alice#0]",
        "  1->3 commit v=0 s=1 [alice#0]",
        "  1: persist#3 put cert/2 v=0 [alice#1] bodies=1",
        "  1->0 commit v=0 s=2 [alice#1]",
        "  1->2 commit v=0 s=2 [alice#1]",
        "  1->3 commit v=0 s=2 [alice#1]",
        "  1: apply s=1 t=1000 seed=2179633191 alice#0",
        "  1: apply s=2 t=1000 seed=2346871726 alice#1",
        "  1: takeSnapshot s=2",
        "  1->0 checkpoint s=2 r=1 state=a70c92",
        "  1->2 checkpoint s=2 r=1 state=a70c92",
        "  1->3 checkpoint s=2 r=1 state=a70c92",
        "  1: persist#4 snapshot s=2 proof=3; delete cert/1; delete cert/2",
      ]
    `);
    expect(h.status()).toMatchInlineSnapshot(`
      "0: primary view=0 primary=0 executed=2 last=2 stable=2 window=(2,6]
      1: backup view=0 primary=0 executed=2 last=2 stable=2 window=(2,6]
      2: backup view=0 primary=0 executed=2 last=2 stable=2 window=(2,6]
      3: backup view=0 primary=0 executed=2 last=2 stable=2 window=(2,6]"
    `);
    const disk = h.disks[1]!.build();
    expect([...disk.records.keys()]).toEqual([]);
    expect(disk.snapshot?.meta.index).toBe(2);
  });
});

describe("PbftCore refuses bad PRE-PREPAREs", () => {
  const r0 = (h: PbftHarness) => h.request("alice", 0, null);

  it("from a replica that is not the view's primary", () => {
    const h = started();
    const req = r0(h);
    const batch = { time: 1000, requests: [requestDigest(h.keys.replica(1), req)] };
    // Replica 1 signs a pre-prepare as itself; it is not view 0's primary.
    const pp = signPrePrepare(h.keys.replica(1), { view: 0, seq: 1, batch, replica: 1 }, [req]);
    expect(h.inject(1, 2, pp)).toBe("");
    expect(h.drops(2)).toMatchObject({ refused: 1, auth: 0 });
    // Claiming to be replica 0 with replica 1's signature fails authentication.
    const forged = { ...pp, replica: 0 };
    expect(h.inject(1, 2, forged)).toBe("");
    expect(h.drops(2)).toMatchObject({ refused: 1, auth: 1 });
    // Nor can a non-primary make a backup change view with a proposal it would refuse.
    const far = { time: 99_000, requests: batch.requests };
    const bogus = signPrePrepare(h.keys.replica(1), { view: 0, seq: 2, batch: far, replica: 1 }, [
      req,
    ]);
    expect(h.inject(1, 2, bogus)).toBe("");
    expect(h.drops(2)).toMatchObject({ refused: 2, auth: 1, timeRefused: 0 });
    expect(h.status([2])).toMatchInlineSnapshot(
      `"2: backup view=0 primary=0 executed=0 last=0 stable=0 window=(0,4]"`,
    );
  });

  it("outside the water marks (h, h+L]", () => {
    const h = started();
    const req = r0(h);
    const batch = { time: 1000, requests: [requestDigest(h.keys.replica(0), req)] };
    const above = signPrePrepare(h.keys.replica(0), { view: 0, seq: 5, batch, replica: 0 }, [req]);
    expect(h.inject(0, 1, above)).toBe("");
    expect(h.drops(1)).toMatchObject({ refused: 1 });
    const inside = signPrePrepare(h.keys.replica(0), { view: 0, seq: 4, batch, replica: 0 }, [req]);
    expect(h.inject(0, 1, inside)).toMatchInlineSnapshot(`
      "1->0 prepare v=0 s=4 [alice#0]
      1->2 prepare v=0 s=4 [alice#0]
      1->3 prepare v=0 s=4 [alice#0]"
    `);
  });

  it("with a time beyond the backup's clock plus the bound: refused, and a view change starts", () => {
    const h = started({ ...small, timeBoundMs: 5000 });
    const req = r0(h);
    const pp = (time: number, seq: number) =>
      signPrePrepare(
        h.keys.replica(0),
        {
          view: 0,
          seq,
          batch: { time, requests: [requestDigest(h.keys.replica(0), req)] },
          replica: 0,
        },
        [req],
      );
    // The backups' clocks read 1000 after one tick: 6000 is the last time they accept.
    expect(h.inject(0, 2, pp(6000, 1))).toMatchInlineSnapshot(`
      "2->0 prepare v=0 s=1 [alice#0]
      2->1 prepare v=0 s=1 [alice#0]
      2->3 prepare v=0 s=1 [alice#0]"
    `);
    expect(h.inject(0, 1, pp(6001, 1))).toMatchInlineSnapshot(`
      "1: persist#2 hardState {"view":1}
      1->0 viewchange v=1 ckpt=0 prepared={}
      1->2 viewchange v=1 ckpt=0 prepared={}
      1->3 viewchange v=1 ckpt=0 prepared={}"
    `);
    expect(h.drops(1)).toMatchObject({ timeRefused: 1 });
    expect(h.status([1])).toMatchInlineSnapshot(
      `"1: view-change view=1 primary=- executed=0 last=0 stable=0 window=(0,4]"`,
    );
  });
});

describe("PbftCore authentication", () => {
  it("forged PREPARE signatures, COMMIT MACs and spoofed senders are dropped and counted", () => {
    const h = started();
    h.client(0, h.request("alice", 0, null));
    h.deliver({ limit: 1, quiet: true }); // replica 1 accepts the pre-prepare and prepares
    const pp = h.network.find((m) => m.msg.type === "preprepare")!.msg;
    if (pp.type !== "preprepare") throw new Error("no pre-prepare");
    const d = batchDigest(h.keys.replica(0), pp.batch);
    const good: Prepare = signPrepare(h.keys.replica(2), {
      view: 0,
      seq: 1,
      digest: d,
      replica: 2,
    });
    // A signature by replica 3 on replica 2's prepare.
    const badSig: Prepare = {
      ...good,
      sig: signPrepare(h.keys.replica(3), { view: 0, seq: 1, digest: d, replica: 2 }).sig,
    };
    expect(h.inject(2, 1, badSig)).toBe("");
    // A valid prepare of replica 2 arriving on replica 3's channel (sender spoofing).
    expect(h.inject(3, 1, good)).toBe("");
    const commit: Commit = makeCommit(h.keys.replica(2), 4, {
      view: 0,
      seq: 1,
      digest: d,
      replica: 2,
    });
    const tampered: Commit = { ...commit, auth: commit.auth.map((a) => a.map((b) => b ^ 1)) };
    expect(h.inject(2, 1, tampered)).toBe("");
    expect(h.cores[1]!.status().details).toMatchObject({
      drops: { auth: 3, malformed: 0, refused: 0, timeRefused: 0, busy: 0 },
    });
    // The real prepare still counts: replica 1 is prepared with its own and replica 2's.
    expect(h.inject(2, 1, good)).toMatchInlineSnapshot(`
      "1: persist#2 put cert/1 v=0 [alice#0] bodies=1
      1->0 commit v=0 s=1 [alice#0]
      1->2 commit v=0 s=1 [alice#0]
      1->3 commit v=0 s=1 [alice#0]"
    `);
  });

  it("a request whose client signature does not verify is dropped, not ordered", () => {
    const h = started();
    const r = h.request("alice", 0, null);
    const forged = { ...r, sig: h.request("bob", 0, null).sig };
    expect(h.client(0, forged)).toBe("");
    expect(h.drops(0)).toMatchObject({ auth: 1 });
    expect(h.tick([0])).toBe("");
  });
});

describe("PbftCore view change", () => {
  const timers = { ...small, requestTimeoutTicks: 5, viewChangeTicks: 10, maxViewChangeTicks: 40 };

  it("a backup holding a request that does not execute starts a view change when its timer fires", () => {
    const h = started(timers);
    // The request reaches backup 1, which forwards it to the primary; the primary never gets it.
    expect(h.client(1, h.request("alice", 0, null))).toMatchInlineSnapshot(
      `"1->0 request alice#0"`,
    );
    h.lose(() => true);
    expect(h.tick([1], 4)).toBe("");
    expect(h.tick([1])).toMatchInlineSnapshot(`
      "1: persist#2 hardState {"view":1}
      1->0 viewchange v=1 ckpt=0 prepared={}
      1->2 viewchange v=1 ckpt=0 prepared={}
      1->3 viewchange v=1 ckpt=0 prepared={}"
    `);
    expect(h.cores[1]!.viewChangeCauses.requestTimer).toBe(1);
  });

  it("2f+1 VIEW-CHANGEs: the new primary's NEW-VIEW re-issues the prepared batch, which then executes", () => {
    const h = started(timers);
    const r = h.request("alice", 0, null);
    for (const id of h.all()) h.client(id, r);
    // Seq 1 prepares everywhere but every COMMIT is lost.
    h.deliver({ drop: (m) => m.msg.type === "commit", quiet: true });
    h.lose(() => true);
    expect(h.services.map((s) => s.appliedIndex)).toEqual([0, 0, 0, 0]);
    // Replicas 1..3 time out; their VIEW-CHANGEs carry the certificate for seq 1.
    expect(h.tick([1, 2, 3], 5)).toMatchInlineSnapshot(`
      "1: persist#3 hardState {"view":1}
      1->0 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      1->2 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      1->3 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      2: persist#3 hardState {"view":1}
      2->0 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      2->1 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      2->3 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      3: persist#3 hardState {"view":1}
      3->0 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      3->1 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      3->2 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}"
    `);
    const out = h.deliver({ drop: (m) => m.to === 0 });
    expect(out).toMatchInlineSnapshot(`
      "1->0 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]} dropped
      1->2 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      1->3 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      2->0 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]} dropped
      2->1 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      2->3 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      3->0 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]} dropped
      3->1 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
        1->0 newview v=1 vcs=1,2,3 O={s1[alice#0]}
        1->2 newview v=1 vcs=1,2,3 O={s1[alice#0]}
        1->3 newview v=1 vcs=1,2,3 O={s1[alice#0]}
      3->2 viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}
      1->0 newview v=1 vcs=1,2,3 O={s1[alice#0]} dropped
      1->2 newview v=1 vcs=1,2,3 O={s1[alice#0]}
        2: persist#4 hardState {"view":1}
        2->0 prepare v=1 s=1 [alice#0]
        2->1 prepare v=1 s=1 [alice#0]
        2->3 prepare v=1 s=1 [alice#0]
      1->3 newview v=1 vcs=1,2,3 O={s1[alice#0]}
        3: persist#4 hardState {"view":1}
        3->0 prepare v=1 s=1 [alice#0]
        3->1 prepare v=1 s=1 [alice#0]
        3->2 prepare v=1 s=1 [alice#0]
      2->0 prepare v=1 s=1 [alice#0] dropped
      2->1 prepare v=1 s=1 [alice#0]
      2->3 prepare v=1 s=1 [alice#0]
        3: persist#5 put cert/1 v=1 [alice#0] bodies=1
        3->0 commit v=1 s=1 [alice#0]
        3->1 commit v=1 s=1 [alice#0]
        3->2 commit v=1 s=1 [alice#0]
      3->0 prepare v=1 s=1 [alice#0] dropped
      3->1 prepare v=1 s=1 [alice#0]
        1: persist#4 put cert/1 v=1 [alice#0] bodies=1
        1->0 commit v=1 s=1 [alice#0]
        1->2 commit v=1 s=1 [alice#0]
        1->3 commit v=1 s=1 [alice#0]
      3->2 prepare v=1 s=1 [alice#0]
        2: persist#5 put cert/1 v=1 [alice#0] bodies=1
        2->0 commit v=1 s=1 [alice#0]
        2->1 commit v=1 s=1 [alice#0]
        2->3 commit v=1 s=1 [alice#0]
      3->0 commit v=1 s=1 [alice#0] dropped
      3->1 commit v=1 s=1 [alice#0]
      3->2 commit v=1 s=1 [alice#0]
      1->0 commit v=1 s=1 [alice#0] dropped
      1->2 commit v=1 s=1 [alice#0]
        2: apply s=1 t=1000 seed=2179633191 alice#0
        2=>alice reply v=1 ts=0 full {"ok":true,"value":null}
      1->3 commit v=1 s=1 [alice#0]
      2->0 commit v=1 s=1 [alice#0] dropped
      2->1 commit v=1 s=1 [alice#0]
        1: apply s=1 t=1000 seed=2179633191 alice#0
        1=>alice reply v=1 ts=0 full {"ok":true,"value":null}
      2->3 commit v=1 s=1 [alice#0]
        3: apply s=1 t=1000 seed=2179633191 alice#0
        3=>alice reply v=1 ts=0 full {"ok":true,"value":null}"
    `);
    expect(h.status([1, 2, 3])).toMatchInlineSnapshot(`
      "1: primary view=1 primary=1 executed=1 last=1 stable=0 window=(0,4]
      2: backup view=1 primary=1 executed=1 last=1 stable=0 window=(0,4]
      3: backup view=1 primary=1 executed=1 last=1 stable=0 window=(0,4]"
    `);
  });

  it("f+1 VIEW-CHANGEs for a higher view make a replica join it", () => {
    const h = started(timers);
    const req = h.request("alice", 0, null);
    const ahead = signPrePrepare(
      h.keys.replica(0),
      {
        view: 0,
        seq: 1,
        batch: { time: 99_000, requests: [requestDigest(h.keys.replica(0), req)] },
        replica: 0,
      },
      [req],
    );
    // Replicas 2 and 3 refuse a time far ahead and ask for view 1; only replica 1 hears them.
    h.inject(0, 2, ahead);
    h.inject(0, 3, ahead);
    const from3 = h.network.filter((m) => m.from === 3 && m.to === 1);
    // One VIEW-CHANGE (f of them) is not enough to join.
    expect(h.deliver({ drop: (m) => m.to !== 1 || m.from === 3 })).toMatchInlineSnapshot(`
      "2->0 viewchange v=1 ckpt=0 prepared={} dropped
      2->1 viewchange v=1 ckpt=0 prepared={}
      2->3 viewchange v=1 ckpt=0 prepared={} dropped
      3->0 viewchange v=1 ckpt=0 prepared={} dropped
      3->1 viewchange v=1 ckpt=0 prepared={} dropped
      3->2 viewchange v=1 ckpt=0 prepared={} dropped"
    `);
    expect(h.cores[1]!.viewChangeCauses.joined).toBe(0);
    // The second (f+1) is.
    h.network.push(...from3);
    expect(h.deliver({ drop: (m) => m.to !== 1 })).toMatchInlineSnapshot(`
      "3->1 viewchange v=1 ckpt=0 prepared={}
        1: persist#2 hardState {"view":1}
        1->0 viewchange v=1 ckpt=0 prepared={}
        1->2 viewchange v=1 ckpt=0 prepared={}
        1->3 viewchange v=1 ckpt=0 prepared={}
        1->0 newview v=1 vcs=1,2,3 O={}
        1->2 newview v=1 vcs=1,2,3 O={}
        1->3 newview v=1 vcs=1,2,3 O={}
      1->0 viewchange v=1 ckpt=0 prepared={} dropped
      1->2 viewchange v=1 ckpt=0 prepared={} dropped
      1->3 viewchange v=1 ckpt=0 prepared={} dropped
      1->0 newview v=1 vcs=1,2,3 O={} dropped
      1->2 newview v=1 vcs=1,2,3 O={} dropped
      1->3 newview v=1 vcs=1,2,3 O={} dropped"
    `);
    expect(h.cores[1]!.viewChangeCauses.joined).toBe(1);
  });

  it("a NEW-VIEW that drops a prepared batch is refused (backups recompute it)", () => {
    const h = started(timers);
    const r = h.request("alice", 0, null);
    for (const id of h.all()) h.client(id, r);
    h.deliver({ drop: (m) => m.msg.type === "commit", quiet: true });
    h.lose(() => true);
    h.tick([1, 2, 3], 5);
    const vcs = h.network
      .filter((m) => m.to === 0)
      .map((m) => m.msg)
      .filter((m) => m.type === "viewchange");
    expect(vcs).toHaveLength(3);
    h.lose(() => true);
    const params = {
      quorums: h.keys.q,
      interval: small.checkpointInterval,
      genesisDigest: stateDigest(h.keys.replica(0), new Uint8Array(0), 64 * 1024),
      windowSize: small.windowSize,
    };
    const planned = planNewView(h.keys.replica(1), params, 1, vcs);
    if (!planned.ok) throw new Error(planned.reason);
    expect(planned.plan.batches.map((b) => h.batchName(b.batch))).toEqual(["[alice#0]"]);
    const honest = buildNewView(h.keys.replica(1), 1, planned.plan, vcs);
    const omitting = buildNewView(
      h.keys.replica(1),
      1,
      { ...planned.plan, batches: planned.plan.batches.map((b) => ({ ...b, batch: nullBatch })) },
      vcs,
    );
    expect(h.inject(1, 2, omitting)).toBe("");
    expect(h.drops(2)).toMatchObject({ auth: 1 });
    // Nor one built by a replica that is not view 1's primary, or on too few VIEW-CHANGEs.
    expect(h.inject(3, 2, buildNewView(h.keys.replica(3), 3, planned.plan, vcs))).toBe("");
    expect(h.inject(1, 2, buildNewView(h.keys.replica(1), 1, planned.plan, vcs.slice(0, 2)))).toBe(
      "",
    );
    expect(h.drops(2)).toMatchObject({ auth: 3 });
    expect(h.status([2])).toMatchInlineSnapshot(
      `"2: view-change view=1 primary=- executed=0 last=0 stable=0 window=(0,4]"`,
    );
    // The honest one (same view-changes) is accepted.
    expect(h.inject(1, 2, honest)).toMatchInlineSnapshot(`
      "2: persist#4 hardState {"view":1}
      2->0 prepare v=1 s=1 [alice#0]
      2->1 prepare v=1 s=1 [alice#0]
      2->3 prepare v=1 s=1 [alice#0]"
    `);
  });

  it("a replica restarted with a stored view abstains there: it neither prepares nor proposes, but commits what the others prepared", () => {
    const h = started(timers);
    orderOne(h);
    h.restart(2);
    // Its first step rewrites its view; it stays in view 0 without asking for another.
    expect(h.tick([2])).toMatchInlineSnapshot(`"2: persist#1 hardState {"view":0}"`);
    // A PRE-PREPARE of its view, inside the window: accepted, but not PREPAREd by it.
    const req = h.request("alice", 2, put("y", 1));
    const pp = signPrePrepare(
      h.keys.replica(0),
      {
        view: 0,
        seq: 3,
        batch: { time: 2000, requests: [requestDigest(h.keys.replica(0), req)] },
        replica: 0,
      },
      [req],
    );
    expect(h.inject(0, 2, pp)).toBe("");
    expect(h.cores[2]!.status().role).toBe("backup");
  });
});
