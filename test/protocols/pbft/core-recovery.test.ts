import { describe, expect, it } from "vitest";
import { makeStateChunk } from "../../../src/protocols/pbft/authenticator.js";
import { type InFlight, PbftHarness } from "./core-harness.js";

/**
 * PbftCore across crashes and lagging replicas (see core.test.ts for the harness's lines):
 * batching and pipelining limits, a power loss of every replica after a batch prepared, reads
 * refused after a restart until the first view change, and state transfer to a replica that
 * missed two checkpoints.
 */
const put = (key: string, value: number) => ({ op: "put", key, value });

describe("PbftCore batching and pipelining", () => {
  it("cuts batches of maxBatchRequests and keeps at most maxInFlight unexecuted", () => {
    const h = new PbftHarness({
      settings: { checkpointInterval: 8, windowSize: 16, maxBatchRequests: 2, maxInFlight: 2 },
    });
    h.client(0, h.request("alice", 0, null));
    for (let t = 1; t <= 4; t++) h.client(0, h.request("alice", t, put("x", t)));
    // Five requests queued before the first tick: two batches of two go out, the fifth waits.
    expect(h.tick([0])).toMatchInlineSnapshot(`
      "0->1 preprepare v=0 s=1 t=1000 [alice#0,alice#1] inline=2
      0->2 preprepare v=0 s=1 t=1000 [alice#0,alice#1] inline=2
      0->3 preprepare v=0 s=1 t=1000 [alice#0,alice#1] inline=2
      0->1 preprepare v=0 s=2 t=1000 [alice#2,alice#3] inline=2
      0->2 preprepare v=0 s=2 t=1000 [alice#2,alice#3] inline=2
      0->3 preprepare v=0 s=2 t=1000 [alice#2,alice#3] inline=2"
    `);
    // Once seq 1 executes, the pipeline has room for the rest.
    h.tick([1, 2, 3]);
    const out = h.deliver().split("\n");
    expect(
      out.filter((l) => l.startsWith("  0->1 preprepare") || l.startsWith("  0: apply")),
    ).toMatchInlineSnapshot(`
        [
          "  0: apply s=1 t=1000 seed=3405220478 alice#0,alice#1",
          "  0->1 preprepare v=0 s=3 t=1000 [alice#4] inline=1",
          "  0: apply s=2 t=1000 seed=795667445 alice#2,alice#3",
          "  0: apply s=3 t=1000 seed=1205332723 alice#4",
        ]
      `);
  });
});

describe("PbftCore durability", () => {
  it("a batch prepared everywhere survives a power loss of every replica and executes after", () => {
    const h = new PbftHarness({
      settings: {
        checkpointInterval: 4,
        windowSize: 8,
        requestTimeoutTicks: 5,
        viewChangeTicks: 10,
      },
    });
    h.tick();
    h.client(0, h.request("alice", 0, null));
    // Every replica prepares (and persists the certificate); every COMMIT is lost.
    h.deliver({ drop: (m) => m.msg.type === "commit", quiet: true });
    for (const id of h.all()) h.restart(id);
    expect(h.services.map((s) => s.appliedIndex)).toEqual([0, 0, 0, 0]);
    expect([...h.disks[2]!.build().records.keys()]).toEqual(["cert/0000000000000001"]);
    // Each abstains in view 0 (it may have voted there): nothing moves until the client, which
    // got no answer, sends its request again; the replicas' timers then move them to view 1, and
    // the VIEW-CHANGEs carry the stored certificate.
    const retry = h.request("alice", 0, null);
    for (const id of h.all()) h.client(id, retry);
    let changed = "";
    for (let i = 0; i < 10 && !changed.includes("viewchange"); i++) changed = h.tick();
    expect(changed).toContain("viewchange v=1 ckpt=0 prepared={s1@v0[alice#0]}");
    for (let i = 0; i < 30 && h.services.some((s) => s.appliedIndex < 1); i++) {
      h.deliver({ quiet: true });
      h.tick();
    }
    h.deliver({ quiet: true });
    expect(h.services.map((s) => s.appliedIndex)).toEqual([1, 1, 1, 1]);
  });

  it("a restarted replica answers reads only after the first view change has re-executed what it may have forgotten", () => {
    const h = new PbftHarness({
      settings: {
        checkpointInterval: 4,
        windowSize: 8,
        requestTimeoutTicks: 5,
        viewChangeTicks: 10,
      },
    });
    h.tick();
    h.client(0, h.request("alice", 0, null));
    h.client(0, h.request("alice", 1, put("x", 7)));
    h.deliver({ quiet: true });
    h.restart(3);
    h.tick([3]);
    h.lose(() => true);
    // Its state is the empty one from before seq 1: it must not answer.
    expect(
      h.client(3, h.request("alice", 2, { get: "x" }, { readOnly: true })),
    ).toMatchInlineSnapshot(`""`);
    // It abstains in view 0 and reads stay refused until a view change. The primary goes
    // silent; a request reaches the backups, whose timers move the group to view 1.
    const silentPrimary = (m: { from: number }) => m.from === 0;
    for (const id of [1, 2, 3]) h.client(id, h.request("alice", 3, put("y", 1)));
    for (let i = 0; i < 60 && h.cores[3]!.status().term < 1; i++) {
      h.tick([1, 2, 3]);
      h.deliver({ drop: silentPrimary, quiet: true });
    }
    for (let i = 0; i < 40 && h.cores[3]!.status().role !== "backup"; i++) {
      h.tick([1, 2, 3]);
      h.deliver({ drop: silentPrimary, quiet: true });
    }
    expect(h.status([3])).toMatchInlineSnapshot(
      `"3: backup view=1 primary=1 executed=3 last=3 stable=0 window=(0,8]"`,
    );
    expect(
      h.client(3, h.request("alice", 4, { get: "x" }, { readOnly: true })),
    ).toMatchInlineSnapshot(`
      "3: query alice q={"get":"x"} at=3
      3=>alice reply v=1 ts=4 full {"ok":true,"value":7}"
    `);
  });
});

describe("PbftCore state transfer", () => {
  it("a replica that missed two checkpoints fetches the stable one, chunk by chunk, and installs it", () => {
    const h = new PbftHarness({
      settings: { checkpointInterval: 2, windowSize: 4, retransmitTicks: 2, chunkBytes: 64 },
    });
    h.tick();
    // Replica 3 hears nothing while seq 1..5 execute at the others (checkpoints 2 and 4 stable).
    const cut = (m: { to: number; from: number }) => m.to === 3 || m.from === 3;
    h.client(0, h.request("alice", 0, null));
    for (let t = 1; t <= 4; t++) {
      h.client(0, h.request("alice", t, put(`k${t}`, t)));
      h.deliver({ drop: cut, quiet: true });
    }
    expect(h.status()).toMatchInlineSnapshot(`
      "0: primary view=0 primary=0 executed=5 last=5 stable=4 window=(4,8]
      1: backup view=0 primary=0 executed=5 last=5 stable=4 window=(4,8]
      2: backup view=0 primary=0 executed=5 last=5 stable=4 window=(4,8]
      3: backup view=0 primary=0 executed=0 last=0 stable=0 window=(0,4]"
    `);
    // Reconnected. The next checkpoint's CHECKPOINTs (seq 6) tell it the group is more than a
    // window ahead: it fetches that state from a signer, chunk by chunk, and installs it.
    h.client(0, h.request("alice", 5, put("k5", 5)));
    let out = "";
    for (let i = 0; i < 20 && h.cores[3]!.status().commitIndex < 6; i++) {
      h.tick();
      out += `${h.deliver()}\n`;
    }
    const lines = out
      .split("\n")
      .filter((l) => /fetch|statechunk|installSnapshot|3: persist/.test(l));
    expect(lines).toMatchInlineSnapshot(`
      [
        "  3->0 fetch s=6 chunk=0",
        "3->0 fetch s=6 chunk=0",
        "  0->3 statechunk s=6 chunk=0/2",
        "0->3 statechunk s=6 chunk=0/2",
        "  3->0 fetch s=6 chunk=1",
        "3->0 fetch s=6 chunk=1",
        "  0->3 statechunk s=6 chunk=1/2",
        "0->3 statechunk s=6 chunk=1/2",
        "  3: persist#2 snapshot s=6 proof=3",
        "  3: installSnapshot s=6",
      ]
    `);
    expect(h.status([3])).toMatchInlineSnapshot(
      `"3: backup view=0 primary=0 executed=6 last=6 stable=6 window=(6,10]"`,
    );
    for (let k = 1; k <= 5; k++)
      expect(h.services[3]!.query({ get: `k${k}` })).toEqual({ ok: true, value: k });
  });
});

describe("PbftCore state transfer from a lying replica", () => {
  it("a chunk that fails its Merkle path is refused and the next source is asked", () => {
    const h = new PbftHarness({
      settings: { checkpointInterval: 2, windowSize: 4, retransmitTicks: 2, chunkBytes: 64 },
    });
    h.tick();
    const cut = (m: { to: number; from: number }) => m.to === 3 || m.from === 3;
    h.client(0, h.request("alice", 0, null));
    for (let t = 1; t <= 4; t++) {
      h.client(0, h.request("alice", t, put(`k${t}`, t)));
      h.deliver({ drop: cut, quiet: true });
    }
    h.client(0, h.request("alice", 5, put("k5", 5)));
    let lied = false;
    let out = "";
    for (let i = 0; i < 30 && h.cores[3]!.status().commitIndex < 6; i++) {
      h.tick();
      // The first chunk any replica serves to 3 is replaced by its own well-MAC'd lie.
      const rewrite = (m: InFlight): InFlight => {
        if (lied || m.to !== 3 || m.msg.type !== "statechunk") return m;
        lied = true;
        const { type: _t, mac: _m, ...fields } = m.msg;
        const data = fields.data.map((b) => b ^ 0xff);
        return { ...m, msg: makeStateChunk(h.keys.replica(m.from), 3, { ...fields, data }) };
      };
      out += `${h.deliver({ rewrite })}\n`;
    }
    expect(lied).toBe(true);
    const lines = out.split("\n").filter((l) => /fetch|statechunk|installSnapshot/.test(l));
    expect(lines).toMatchInlineSnapshot(`
      [
        "  3->0 fetch s=6 chunk=0",
        "3->0 fetch s=6 chunk=0",
        "  0->3 statechunk s=6 chunk=0/2",
        "0->3 statechunk s=6 chunk=0/2",
        "  3->1 fetch s=6 chunk=0",
        "3->1 fetch s=6 chunk=0",
        "  1->3 statechunk s=6 chunk=0/2",
        "1->3 statechunk s=6 chunk=0/2",
        "  3->1 fetch s=6 chunk=1",
        "3->1 fetch s=6 chunk=1",
        "  1->3 statechunk s=6 chunk=1/2",
        "1->3 statechunk s=6 chunk=1/2",
        "  3: installSnapshot s=6",
      ]
    `);
    expect(h.drops(3)).toMatchObject({ auth: 0 });
    expect(h.drops(3).refused).toBeGreaterThan(0);
    for (let k = 1; k <= 5; k++)
      expect(h.services[3]!.query({ get: `k${k}` })).toEqual({ ok: true, value: k });
  });
});
