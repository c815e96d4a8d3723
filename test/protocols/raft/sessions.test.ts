import { describe, expect, it } from "vitest";
import { Cluster, put } from "./harness.js";

const incr = { op: "incr", key: "n" };

describe("client sessions and exactly-once commands", () => {
  it("registers a session with seq 0 and answers each command once, from the replica that got it", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    expect(c.command(l, "a", 1, incr)).toEqual({
      type: "reply",
      client: "a",
      seq: 1,
      result: { ok: true, value: 1 },
    });
    c.run(5);
    const replies = c.repliesTo("a");
    expect(replies.map((r) => [r.from, r.msg.type === "reply" && r.msg.seq])).toEqual([
      [l, 0],
      [l, 1],
    ]);
  });

  it("a retried command returns the first result instead of running again", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    expect(c.command(l, "a", 1, incr)).toMatchObject({ result: { ok: true, value: 1 } });
    // The reply was lost; the client sends seq 1 again.
    expect(c.command(l, "a", 1, incr)).toMatchObject({ result: { ok: true, value: 1 } });
    expect(c.command(l, "a", 2, incr)).toMatchObject({ result: { ok: true, value: 2 } });
  });

  it("a retry while the first copy is still in the leader's log is not appended twice", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    const before = c.status(l).lastIndex;
    c.client(l, { type: "request", client: "a", seq: 1, ackedBelow: 1, cmd: incr });
    c.client(l, { type: "request", client: "a", seq: 1, ackedBelow: 1, cmd: incr }); // same batch
    c.tick(l); // the batch becomes an entry, not yet committed
    c.client(l, { type: "request", client: "a", seq: 1, ackedBelow: 1, cmd: incr }); // in the log
    c.run(3);
    expect(c.repliesTo("a").filter((r) => r.msg.type === "reply" && r.msg.seq === 1).length).toBe(
      1,
    );
    const logged = c
      .node(l)
      .disk.build()
      .entries.filter((e) => e.index > before)
      .flatMap((e) => (e.payload.type === "commands" ? e.payload.commands : []));
    expect(logged).toEqual([{ client: "a", seq: 1, ackedBelow: 1, cmd: incr }]);
  });

  it("a retry sent to a new leader after a leader change is still executed once", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    expect(c.command(l, "a", 1, incr)).toMatchObject({ result: { value: 1 } });
    c.isolate(l);
    c.runUntil(() => c.leader() !== undefined && c.leader() !== l);
    const l2 = c.elect();
    expect(c.command(l2, "a", 1, incr)).toMatchObject({ result: { ok: true, value: 1 } });
    expect(c.command(l2, "a", 2, incr)).toMatchObject({ result: { ok: true, value: 2 } });
  });

  it("a follower answers not-leader with the leader as hint, and takes nothing into its log", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    const f = (l + 1) % 3;
    const last = c.status(f).lastIndex;
    c.client(f, { type: "request", client: "a", seq: 0, ackedBelow: 0, cmd: null });
    c.run(3);
    expect(c.repliesTo("a")).toEqual([
      {
        from: f,
        client: "a",
        msg: {
          type: "reply",
          client: "a",
          seq: 0,
          result: { ok: false, error: "not-leader", leader: l },
        },
      },
    ]);
    expect(c.status(f).lastIndex).toBe(last);
  });

  it("commands batched but not yet logged when leadership is lost are refused (they did not run)", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    c.client(l, { type: "request", client: "a", seq: 1, ackedBelow: 1, cmd: put("k", 1) });
    // 1 is logged at once; 2 waits in the batch for the round in flight, and then a higher term arrives.
    c.client(l, { type: "request", client: "a", seq: 2, ackedBelow: 1, cmd: put("k", 2) });
    const term = c.status(l).term;
    c.step(l, {
      type: "peer",
      from: (l + 1) % 3,
      msg: {
        type: "vote",
        term: term + 1,
        lastIndex: 100,
        lastTerm: term,
        pre: false,
        transfer: true,
      },
    });
    expect(c.repliesTo("a").at(-1)?.msg).toEqual({
      type: "reply",
      client: "a",
      seq: 2,
      result: { ok: false, error: "not-leader" },
    });
  });

  it("messages whose client field differs from the authenticated sender are ignored", () => {
    const c = new Cluster({ n: 1 });
    const l = c.elect();
    const out = c.step(l, {
      type: "client",
      client: "mallory",
      msg: { type: "request", client: "alice", seq: 0, ackedBelow: 0, cmd: null },
      mono: 0,
    });
    expect(out).toEqual([]);
  });

  it("forgets the oldest pending requests beyond maxPendingRequests; a retry still gets the result", () => {
    const c = new Cluster({ n: 3, settings: { maxPendingRequests: 2 } });
    const l = c.elect();
    c.openSession(l, "a");
    for (let seq = 1; seq <= 4; seq++) {
      c.client(l, { type: "request", client: "a", seq, ackedBelow: 1, cmd: incr });
    }
    c.run(5);
    const answered = c
      .repliesTo("a")
      .filter((r) => r.msg.type === "reply" && r.msg.seq > 0)
      .map((r) => (r.msg.type === "reply" ? r.msg.seq : -1));
    expect(answered).toEqual([3, 4]);
    expect(c.command(l, "a", 1, incr)).toMatchObject({ result: { ok: true, value: 1 } });
  });
});
