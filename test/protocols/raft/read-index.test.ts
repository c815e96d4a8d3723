import { describe, expect, it } from "vitest";
import type { AppendRequest } from "../../../src/protocols/raft/messages.js";
import { Cluster, put } from "./harness.js";

const read = (c: Cluster, at: number, qid: number, key = "k") =>
  c.client(at, { type: "query", client: "r", qid, q: { get: key } });

function queryReplies(c: Cluster) {
  return c.repliesTo("r").flatMap((r) => (r.msg.type === "queryReply" ? [r.msg] : []));
}

describe("ReadIndex reads", () => {
  it("confirms leadership with a quorum-acknowledged heartbeat round, then queries at the commit index", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    c.command(l, "a", 1, put("k", 7));
    const commit = c.status(l).commitIndex;
    const out = read(c, l, 1);
    // Nothing is served in the step that received the read: first the round goes out.
    expect(out.filter((o) => o.type === "query")).toEqual([]);
    const heartbeats = out.filter((o) => o.type === "send" && o.msg.type === "append");
    expect(heartbeats.length).toBe(2);
    c.deliverAll();
    expect(c.outputs(l, "query")).toEqual([
      { type: "query", client: "r", qid: 1, q: { get: "k" }, atIndex: commit },
    ]);
    expect(queryReplies(c)).toEqual([
      { type: "queryReply", client: "r", qid: 1, result: { ok: true, value: 7 } },
    ]);
  });

  it("reads that arrive while a round is in flight share the next round", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    const roundsBefore = c.node(l).trace.length;
    read(c, l, 1);
    read(c, l, 2);
    read(c, l, 3);
    read(c, l, 4);
    c.deliverAll();
    expect(queryReplies(c).map((r) => r.qid)).toEqual([1, 2, 3, 4]);
    const rounds = new Set(
      c
        .node(l)
        .trace.slice(roundsBefore)
        .flatMap((o) =>
          o.type === "send" && o.msg.type === "append" ? [(o.msg as AppendRequest).round] : [],
        ),
    );
    expect(rounds.size).toBe(2); // one round for read 1, one shared by reads 2-4
  });

  it("a new leader serves no read until it has committed an entry of its own term", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.isolate(l);
    // Whoever leads next: its noop is held back from the others.
    c.drop = (m) => m.from !== l && m.msg.type === "append" && m.msg.entries.length > 0;
    c.runUntil(() => c.leader() !== undefined && c.leader() !== l);
    const l2 = c.leader()!;
    const committedOwnTerm = () =>
      c.entryAt(l2, c.status(l2).commitIndex)?.term === c.status(l2).term;
    expect(committedOwnTerm()).toBe(false);
    read(c, l2, 1);
    c.run(3);
    expect(c.outputs(l2, "query")).toEqual([]);
    c.drop = undefined;
    c.run(5);
    expect(committedOwnTerm()).toBe(true);
    expect(c.outputs(l2, "query").map((q) => q.qid)).toEqual([1]);
  });

  it("a deposed leader that has not noticed yet cannot serve a stale read", () => {
    const c = new Cluster({ n: 3 });
    const old = c.elect();
    c.openSession(old, "a");
    c.command(old, "a", 1, put("k", 1));
    c.isolate(old);
    c.runUntil(() => c.leader() !== undefined && c.leader() !== old, 100);
    const fresh = c.leader()!;
    c.command(fresh, "a", 2, put("k", 2));
    // The old leader still believes it leads (check-quorum has not fired yet).
    expect(c.status(old).role).toBe("leader");
    read(c, old, 1);
    c.run(2);
    expect(c.outputs(old, "query")).toEqual([]);
    // Check-quorum makes it step down; the read is refused, never answered with the stale 1.
    c.run(20);
    expect(c.status(old).role).not.toBe("leader");
    expect(queryReplies(c)).toEqual([
      { type: "queryReply", client: "r", qid: 1, result: { ok: false, error: "not-leader" } },
    ]);
  });

  it("followers refuse reads with a leader hint", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    read(c, (l + 1) % 3, 9);
    expect(queryReplies(c)).toEqual([
      {
        type: "queryReply",
        client: "r",
        qid: 9,
        result: { ok: false, error: "not-leader", leader: l },
      },
    ]);
  });
});

describe("lease reads (opt-in)", () => {
  it("serve at once while a quorum acknowledged a recent heartbeat, and stop when it lapses", () => {
    const c = new Cluster({ n: 3, settings: { leaseReads: true } });
    const l = c.elect();
    c.run(3);
    const out = read(c, l, 1);
    expect(out.filter((o) => o.type === "query").length).toBe(1);
    // Cut off, the lease runs out after about an election timeout and reads wait for a round.
    c.isolate(l);
    c.run(9);
    const later = read(c, l, 2);
    expect(later.filter((o) => o.type === "query")).toEqual([]);
  });

  it("is refused by parseRaftSettings without check-quorum", () => {
    expect(() => new Cluster({ n: 3, settings: { leaseReads: true, checkQuorum: false } })).toThrow(
      /leaseReads/,
    );
  });
});
