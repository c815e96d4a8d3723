import { describe, expect, it } from "vitest";
import { type InFlight, PbftHarness } from "./core-harness.js";

/**
 * Tentative execution (OSDI'99 §5.1.2, TOCS §5.1.2; src/protocols/pbft/tentative.ts), message by
 * message: a replica executes a prepared batch before it commits and replies tentatively,
 * executes nothing above it until it commits, and undoes it when a NEW-VIEW binds the slot to
 * another batch.
 */
const settings = {
  checkpointInterval: 4,
  windowSize: 8,
  requestTimeoutTicks: 5,
  viewChangeTicks: 10,
  maxViewChangeTicks: 40,
  tentativeExecution: true,
  maxInFlight: 8, // several slots in flight, so one can commit above the tentative one
};

const put = (key: string, value: number) => ({ op: "put", key, value });
const commits = (m: InFlight) => m.msg.type === "commit";

/** A started cluster with alice's session open (seq 1 committed everywhere). */
function started(extra: Record<string, number | boolean> = {}) {
  const h = new PbftHarness({ settings: { ...settings, ...extra } });
  h.tick();
  h.client(0, h.request("alice", 0, null));
  h.deliver({ quiet: true });
  h.take();
  return h;
}

/**
 * Seq 2 (alice#1) prepares at replica 3 alone, which executes it tentatively; every COMMIT is
 * lost. Returns the harness and replica 0's state (seq 1 executed, seq 2 not).
 */
function preparedAtReplica3Alone(bug?: "tentative-without-rollback") {
  const h = new PbftHarness({ settings, ...(bug && { bug }) });
  h.tick();
  h.client(0, h.request("alice", 0, null));
  h.deliver({ quiet: true });
  const alice = h.request("alice", 1, put("x", 7));
  for (const id of h.all()) h.client(id, alice);
  const out = h.deliver({
    drop: (m) => commits(m) || (m.msg.type === "prepare" && m.to !== 3),
    quiet: true,
  });
  expect(out).toBe("");
  expect(h.services.map((s) => s.appliedIndex)).toEqual([1, 1, 1, 2]);
  // Replicas 0, 1, 2 time out and ask for view 1 without a certificate for seq 2; replica 3
  // (which also times out) carries it. The new primary takes the first 2f+1 by id: 0, 1, 2,
  // so its NEW-VIEW re-issues seq 1 only and seq 2 is free for a new batch.
  h.tick([0, 1, 2, 3], 5);
  return { h, untouched: h.services[0]!.snapshot() };
}

describe("PbftCore tentative execution", () => {
  it("boots by snapshotting the empty state (what a rollback before any checkpoint returns to)", () => {
    const h = new PbftHarness({ settings });
    expect(h.tick([0])).toMatchInlineSnapshot(`
      "0: persist#1 hardState {"view":0}
      0: takeSnapshot s=0"
    `);
  });

  it("a prepared batch executes tentatively and is replied with tentative=true; its commit makes it final without executing it again", () => {
    const h = started();
    h.client(0, h.request("alice", 1, put("x", 7)));
    const held: InFlight[] = [];
    expect(h.deliver({ drop: (m) => commits(m) && held.push(m) > 0 })).toMatchInlineSnapshot(`
      "0->1 preprepare v=0 s=2 t=1000 [alice#1] inline=1
        1->0 prepare v=0 s=2 [alice#1]
        1->2 prepare v=0 s=2 [alice#1]
        1->3 prepare v=0 s=2 [alice#1]
      0->2 preprepare v=0 s=2 t=1000 [alice#1] inline=1
        2->0 prepare v=0 s=2 [alice#1]
        2->1 prepare v=0 s=2 [alice#1]
        2->3 prepare v=0 s=2 [alice#1]
      0->3 preprepare v=0 s=2 t=1000 [alice#1] inline=1
        3->0 prepare v=0 s=2 [alice#1]
        3->1 prepare v=0 s=2 [alice#1]
        3->2 prepare v=0 s=2 [alice#1]
      1->0 prepare v=0 s=2 [alice#1]
      1->2 prepare v=0 s=2 [alice#1]
        2: persist#3 put cert/2 v=0 [alice#1] bodies=1
        2->0 commit v=0 s=2 [alice#1]
        2->1 commit v=0 s=2 [alice#1]
        2->3 commit v=0 s=2 [alice#1]
        2: apply(tentative) s=2 t=1000 seed=289248015 alice#1
        2=>alice reply v=0 ts=1 tentative digest
      1->3 prepare v=0 s=2 [alice#1]
        3: persist#3 put cert/2 v=0 [alice#1] bodies=1
        3->0 commit v=0 s=2 [alice#1]
        3->1 commit v=0 s=2 [alice#1]
        3->2 commit v=0 s=2 [alice#1]
        3: apply(tentative) s=2 t=1000 seed=289248015 alice#1
        3=>alice reply v=0 ts=1 tentative digest
      2->0 prepare v=0 s=2 [alice#1]
        0: persist#3 put cert/2 v=0 [alice#1] bodies=1
        0->1 commit v=0 s=2 [alice#1]
        0->2 commit v=0 s=2 [alice#1]
        0->3 commit v=0 s=2 [alice#1]
        0: apply(tentative) s=2 t=1000 seed=289248015 alice#1
        0=>alice reply v=0 ts=1 tentative digest
      2->1 prepare v=0 s=2 [alice#1]
        1: persist#3 put cert/2 v=0 [alice#1] bodies=1
        1->0 commit v=0 s=2 [alice#1]
        1->2 commit v=0 s=2 [alice#1]
        1->3 commit v=0 s=2 [alice#1]
        1: apply(tentative) s=2 t=1000 seed=289248015 alice#1
        1=>alice reply v=0 ts=1 tentative full {"ok":true,"value":7}
      2->3 prepare v=0 s=2 [alice#1]
      3->0 prepare v=0 s=2 [alice#1]
      3->1 prepare v=0 s=2 [alice#1]
      3->2 prepare v=0 s=2 [alice#1]
      2->0 commit v=0 s=2 [alice#1] dropped
      2->1 commit v=0 s=2 [alice#1] dropped
      2->3 commit v=0 s=2 [alice#1] dropped
      3->0 commit v=0 s=2 [alice#1] dropped
      3->1 commit v=0 s=2 [alice#1] dropped
      3->2 commit v=0 s=2 [alice#1] dropped
      0->1 commit v=0 s=2 [alice#1] dropped
      0->2 commit v=0 s=2 [alice#1] dropped
      0->3 commit v=0 s=2 [alice#1] dropped
      1->0 commit v=0 s=2 [alice#1] dropped
      1->2 commit v=0 s=2 [alice#1] dropped
      1->3 commit v=0 s=2 [alice#1] dropped"
    `);
    expect(h.status()).toMatchInlineSnapshot(`
      "0: primary view=0 primary=0 executed=1 last=2 stable=0 window=(0,8]
      1: backup view=0 primary=0 executed=1 last=1 stable=0 window=(0,8]
      2: backup view=0 primary=0 executed=1 last=1 stable=0 window=(0,8]
      3: backup view=0 primary=0 executed=1 last=1 stable=0 window=(0,8]"
    `);
    // A retransmission before the commit is answered from the reply cache, still tentative.
    expect(h.client(2, h.request("alice", 1, put("x", 7)))).toMatchInlineSnapshot(`
      "2=>alice reply v=0 ts=1 tentative full {"ok":true,"value":7}
      2->0 request alice#1"
    `);
    h.lose(() => true);
    // The COMMITs arrive: the execution becomes final; nothing is applied or sent again.
    h.network.push(...held);
    const out = h.deliver().split("\n");
    expect(out.filter((l) => !l.includes("commit"))).toMatchInlineSnapshot(`
      [
        "  0: confirm s=2 alice#1",
        "  1: confirm s=2 alice#1",
        "  2: confirm s=2 alice#1",
        "  3: confirm s=2 alice#1",
      ]
    `);
    expect(h.services.map((s) => s.appliedIndex)).toEqual([2, 2, 2, 2]);
    // Now a retransmission gets the committed reply.
    expect(h.client(2, h.request("alice", 1, put("x", 7)))).toContain("ts=1 full");
    // Two each: the session opening (seq 1) went the same way in `started`.
    expect(h.cores.map((c) => c.counters.tentativeExecutions)).toEqual([2, 2, 2, 2]);
  });

  it("nothing above the tentative slot executes until it commits, however committed it is", () => {
    const h = started({ maxBatchRequests: 1 });
    const held: InFlight[] = [];
    h.client(0, h.request("alice", 1, put("x", 1)));
    h.client(0, h.request("alice", 2, put("x", 2)));
    // Seq 3 commits everywhere; seq 2 only prepares.
    const hold = (m: InFlight) => m.msg.type === "commit" && m.msg.seq === 2 && held.push(m) > 0;
    const lines = h.deliver({ drop: hold }).split("\n");
    expect(lines.filter((l) => /apply|confirm|reply|takeSnapshot/.test(l))).toMatchInlineSnapshot(`
      [
        "  2: apply(tentative) s=2 t=1000 seed=2346871726 alice#1",
        "  2=>alice reply v=0 ts=1 tentative digest",
        "  3: apply(tentative) s=2 t=1000 seed=2346871726 alice#1",
        "  3=>alice reply v=0 ts=1 tentative digest",
        "  0: apply(tentative) s=2 t=1000 seed=2346871726 alice#1",
        "  0=>alice reply v=0 ts=1 tentative digest",
        "  1: apply(tentative) s=2 t=1000 seed=2346871726 alice#1",
        "  1=>alice reply v=0 ts=1 tentative full {"ok":true,"value":1}",
      ]
    `);
    expect(h.status()).toMatchInlineSnapshot(`
      "0: primary view=0 primary=0 executed=1 last=3 stable=0 window=(0,8]
      1: backup view=0 primary=0 executed=1 last=1 stable=0 window=(0,8]
      2: backup view=0 primary=0 executed=1 last=1 stable=0 window=(0,8]
      3: backup view=0 primary=0 executed=1 last=1 stable=0 window=(0,8]"
    `);
    h.network.push(...held);
    const after = h.deliver().split("\n");
    expect(after.filter((l) => /apply|confirm|reply|takeSnapshot/.test(l))).toMatchInlineSnapshot(`
      [
        "  0: confirm s=2 alice#1",
        "  0: apply s=3 t=1000 seed=1774803588 alice#2",
        "  0=>alice reply v=0 ts=2 digest",
        "  1: confirm s=2 alice#1",
        "  1: apply s=3 t=1000 seed=1774803588 alice#2",
        "  1=>alice reply v=0 ts=2 digest",
        "  2: confirm s=2 alice#1",
        "  2: apply s=3 t=1000 seed=1774803588 alice#2",
        "  2=>alice reply v=0 ts=2 full {"ok":true,"value":2}",
        "  3: confirm s=2 alice#1",
        "  3: apply s=3 t=1000 seed=1774803588 alice#2",
        "  3=>alice reply v=0 ts=2 digest",
      ]
    `);
  });

  it("a NEW-VIEW that puts another batch at the tentative slot rolls it back: the state is a replica's that never executed it, and the right batches execute", () => {
    const { h, untouched } = preparedAtReplica3Alone();
    expect(h.replies.get("alice")!.filter((r) => r.timestamp === 1 && r.tentative)).toHaveLength(1);
    let trace = "";
    while (h.cores[3]!.counters.tentativeRollbacks === 0) trace += `${h.deliver({ limit: 1 })}\n`;
    // Rolled back: the state of a replica that never executed seq 2.
    expect(h.services[3]!.snapshot()).toEqual(untouched);
    trace += h.deliver();
    // Replica 3 restores the empty state of seq 0, executes the committed seq 1 again, then
    // takes part in view 1, where alice's request is ordered at seq 2 anew.
    const mine = trace.split("\n").filter((l) => /^1->3 newview|^ *3: |^ *3=>/.test(l));
    expect(mine).toMatchInlineSnapshot(`
      [
        "1->3 newview v=1 vcs=0,1,2 O={s1[alice#0]}",
        "  3: persist#5 hardState {"view":1}",
        "  3: installSnapshot s=0 rollback",
        "  3: apply s=1 t=1000 seed=2179633191 alice#0",
        "1->3 newview v=1 vcs=0,1,2 O={s1[alice#0]}",
        "  3: persist#6 put cert/1 v=1 [alice#0] bodies=1",
        "  3: persist#7 put cert/2 v=1 [alice#1] bodies=1",
        "  3: apply(tentative) s=2 t=6000 seed=2563007888 alice#1",
        "  3=>alice reply v=1 ts=1 tentative digest",
        "  3: confirm s=2 alice#1",
      ]
    `);
    expect(h.services.map((s) => s.appliedIndex)).toEqual([2, 2, 2, 2]);
    const states = h.services.map((s) => s.snapshot());
    for (const state of states) expect(state).toEqual(states[0]);
    expect(h.cores.map((c) => c.counters.tentativeRollbacks)).toEqual([0, 0, 0, 1]);
  });

  it("the planted bug tentative-without-rollback keeps the tentative effects: replica 3's state differs", () => {
    const { h } = preparedAtReplica3Alone("tentative-without-rollback");
    h.deliver({ quiet: true });
    expect(h.cores[3]!.counters.tentativeRollbacks).toBe(0);
    // It keeps seq 2 as it ran in view 0 (the batch of time 1000) where the others executed
    // view 1's batch (time 6000): the states differ.
    expect(h.services[3]!.snapshot()).not.toEqual(h.services[0]!.snapshot());
  });

  it("a read-only request waits while a batch is tentative, and runs once it commits", () => {
    const h = started();
    h.client(0, h.request("alice", 1, put("x", 7)));
    const held: InFlight[] = [];
    h.deliver({ drop: (m) => commits(m) && held.push(m) > 0, quiet: true });
    h.take();
    // Tentatively x = 7 at replica 3; the committed state has no x yet. The read waits.
    expect(h.client(3, h.request("alice", 2, { get: "x" }, { readOnly: true }))).toBe("");
    h.network.push(...held);
    const lines = h.deliver().split("\n");
    expect(lines.filter((l) => l.includes("3:") || l.includes("3=>"))).toMatchInlineSnapshot(`
      [
        "  3: confirm s=2 alice#1",
        "  3: query alice q={"get":"x"} at=2",
        "  3=>alice reply v=0 ts=2 full {"ok":true,"value":7}",
      ]
    `);
  });

  it("a checkpoint is not taken of tentative state: the snapshot waits for the commit", () => {
    const h = started({ maxBatchRequests: 1 });
    const held: InFlight[] = [];
    for (let ts = 1; ts <= 3; ts++) h.client(0, h.request("alice", ts, put("x", ts)));
    // Seqs 2 and 3 commit; seq 4, the checkpoint, only prepares.
    const hold = (m: InFlight) => m.msg.type === "commit" && m.msg.seq === 4 && held.push(m) > 0;
    const lines = h.deliver({ drop: hold }).split("\n");
    expect(
      lines.filter((l) => /^ *1: (apply|confirm|takeSnapshot)/.test(l)),
    ).toMatchInlineSnapshot(`
      [
        "  1: apply(tentative) s=2 t=1000 seed=2346871726 alice#1",
        "  1: confirm s=2 alice#1",
        "  1: apply(tentative) s=3 t=1000 seed=1774803588 alice#2",
        "  1: confirm s=3 alice#2",
        "  1: apply(tentative) s=4 t=1000 seed=2970643364 alice#3",
      ]
    `);
    h.network.push(...held);
    const after = h.deliver().split("\n");
    expect(
      after.filter((l) => /^ *1: (apply|confirm|takeSnapshot)/.test(l)),
    ).toMatchInlineSnapshot(`
      [
        "  1: confirm s=4 alice#3",
        "  1: takeSnapshot s=4",
      ]
    `);
  });

  it("with tentativeExecution off a prepared batch waits for its commit, as before", () => {
    const h = started({ tentativeExecution: false });
    expect(h.tick([0])).toBe(""); // no snapshot of the empty state either
    h.client(0, h.request("alice", 1, put("x", 7)));
    const held: InFlight[] = [];
    const lines = h.deliver({ drop: (m) => commits(m) && held.push(m) > 0 }).split("\n");
    expect(lines.filter((l) => /apply|reply/.test(l))).toEqual([]);
    h.network.push(...held);
    const after = h.deliver().split("\n");
    expect(after.filter((l) => /apply|reply/.test(l))).toMatchInlineSnapshot(`
      [
        "  0: apply s=2 t=2000 seed=536421496 alice#1",
        "  0=>alice reply v=0 ts=1 digest",
        "  1: apply s=2 t=2000 seed=536421496 alice#1",
        "  1=>alice reply v=0 ts=1 full {"ok":true,"value":7}",
        "  2: apply s=2 t=2000 seed=536421496 alice#1",
        "  2=>alice reply v=0 ts=1 digest",
        "  3: apply s=2 t=2000 seed=536421496 alice#1",
        "  3=>alice reply v=0 ts=1 digest",
      ]
    `);
  });
});
