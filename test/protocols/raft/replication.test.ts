import { describe, expect, it } from "vitest";
import type { LogEntry } from "../../../src/core/log-entry.js";
import type { AppendReply, AppendRequest } from "../../../src/protocols/raft/messages.js";
import { Cluster, disk, entry, peer, persists, put, sends, soloCore } from "./harness.js";

const terms = (ts: number[]): LogEntry[] => ts.map((t, i) => entry(i + 1, t));

/** Lets only `id` time out, so it is the one that campaigns. */
function campaignAlone(c: Cluster, id: number): void {
  for (let i = 0; i < 200 && c.status(id).role !== "leader"; i++) {
    c.tick(id);
    c.deliverAll();
  }
  expect(c.status(id).role).toBe("leader");
}

function appendReplies(c: Cluster, to: number, from: number): AppendReply[] {
  return c.delivered
    .filter((m) => m.to === to && m.from === from && m.msg.type === "appendReply")
    .map((m) => m.msg as AppendReply);
}

function termsOf(c: Cluster, id: number): number[] {
  return c
    .node(id)
    .disk.build()
    .entries.map((e) => e.term);
}

describe("log replication", () => {
  it("sends a command at once when nothing is in flight, and batches those that arrive during a round", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    const before = c.status(l).lastIndex;
    c.client(l, { type: "request", client: "a", seq: 1, ackedBelow: 1, cmd: put("k", 1) });
    expect(c.status(l).lastIndex).toBe(before + 1); // no tick needed
    for (let seq = 2; seq <= 4; seq++) {
      c.client(l, { type: "request", client: "a", seq, ackedBelow: 1, cmd: put("k", seq) });
    }
    expect(c.status(l).lastIndex).toBe(before + 1); // waiting for the round in flight
    c.run(3);
    expect(c.status(l).lastIndex).toBe(before + 2);
    const e = c.entryAt(l, before + 2)!;
    expect(e.payload.type === "commands" && e.payload.commands.map((x) => x.seq)).toEqual([
      2, 3, 4,
    ]);
    expect(c.repliesTo("a").filter((r) => r.msg.type === "reply").length).toBe(5);
  });

  it("does not wait for the slowest follower: a command goes out while a quorum is idle", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    const slow = [0, 1, 2].find((id) => id !== l) as number;
    c.openSession(l, "a");
    /** Delivers everything except messages to and from `slow`, which stay in flight. */
    const deliverAllBut = () => {
      for (let i = 0; i < 1000; i++) {
        const at = c.network.findIndex((m) => m.to !== slow && m.from !== slow);
        if (at < 0) return;
        c.deliverAt(at);
      }
    };
    const before = c.status(l).lastIndex;
    c.client(l, { type: "request", client: "a", seq: 1, ackedBelow: 1, cmd: put("k", 1) });
    deliverAllBut();
    // Committed by the leader and the other follower; the append to `slow` is still in flight.
    expect(c.status(l).commitIndex).toBe(before + 1);
    expect(c.network.some((m) => m.to === slow && m.msg.type === "append")).toBe(true);
    c.client(l, { type: "request", client: "a", seq: 2, ackedBelow: 2, cmd: put("k", 2) });
    expect(c.status(l).lastIndex).toBe(before + 2); // not held back by `slow`
    deliverAllBut();
    expect(c.status(l).commitIndex).toBe(before + 2);
    c.deliverAll();
    expect(c.status(slow).lastIndex).toBe(before + 2); // it learns the commit index with the next append
  });

  it("closes a batch early at maxBatchCommands", () => {
    const c = new Cluster({ n: 3, settings: { maxBatchCommands: 2 } });
    const l = c.elect();
    c.openSession(l, "a");
    const before = c.status(l).lastIndex;
    for (let seq = 1; seq <= 6; seq++) {
      c.client(l, { type: "request", client: "a", seq, ackedBelow: 1, cmd: put("k", seq) });
    }
    // 1 alone (nothing in flight), then [2, 3] and [4, 5] closed by size; 6 waits.
    expect(c.status(l).lastIndex).toBe(before + 3);
    c.run(1);
    expect(c.status(l).lastIndex).toBe(before + 4);
  });

  it("stamps each entry with a never-decreasing leader time and a fresh seed", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    for (let seq = 1; seq <= 5; seq++) c.command(l, "a", seq, put("k", seq));
    const log = c.node(l).disk.build().entries;
    for (let i = 1; i < log.length; i++)
      expect(log[i]!.time).toBeGreaterThanOrEqual(log[i - 1]!.time);
    expect(log.at(-1)!.time).toBeGreaterThan(0);
    expect(new Set(log.map((e) => e.seed)).size).toBe(log.length);
    // Every replica holds the same stamps.
    c.run(3);
    for (const node of c.nodes) expect(node.disk.build().entries).toEqual(log);
  });

  it("repairs divergent followers with conflict hints: one probe per conflicting term", () => {
    // Leader-to-be 0 and two followers that went astray (dissertation Figure 3.7 style).
    const c = new Cluster({
      n: 3,
      durable: (id) =>
        [
          disk(6, null, terms([1, 1, 1, 4, 4, 5, 5, 6, 6, 6])),
          disk(3, null, terms([1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3])),
          disk(4, null, terms([1, 1, 1, 4])),
        ][id],
    });
    campaignAlone(c, 0);
    c.run(5);
    const leaderLog = termsOf(c, 0);
    expect(leaderLog).toEqual([1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7]);
    expect(termsOf(c, 1)).toEqual(leaderLog);
    expect(termsOf(c, 2)).toEqual(leaderLog);

    // Follower 1: rejected at 10 (its term 3 run starts at 7), then at 6 (term 2 run starts at 4).
    const rejected1 = appendReplies(c, 0, 1).filter((r) => !r.success);
    expect(rejected1.map((r) => [r.rejectedIndex, r.conflictTerm, r.conflictIndex])).toEqual([
      [10, 3, 7],
      [6, 2, 4],
    ]);
    // It truncated its divergent suffix from 4 once, and never a committed entry.
    const truncates = c
      .outputs(1, "persist")
      .flatMap((p) => p.ops.filter((o) => o.type === "truncate"));
    expect(truncates).toEqual([{ type: "truncate", from: 4 }]);
    // Follower 2: its log is short, the hint is its last index + 1.
    const rejected2 = appendReplies(c, 0, 2).filter((r) => !r.success);
    expect(rejected2.map((r) => [r.rejectedIndex, r.conflictTerm, r.conflictIndex])).toEqual([
      [10, 0, 5],
    ]);
  });

  it("a duplicated or reordered older AppendEntries does not truncate matching entries", () => {
    const core = soloCore(1, 3, { durable: disk(2, null, []) });
    const append = (entries: LogEntry[], commit = 0): AppendRequest => ({
      type: "append",
      term: 2,
      prevIndex: 0,
      prevTerm: 0,
      entries,
      commit,
      round: 0,
    });
    core.step(peer(0, append([entry(1, 1), entry(2, 2), entry(3, 2)])));
    const out = core.step(peer(0, append([entry(1, 1)])));
    expect(core.status().lastIndex).toBe(3);
    expect(persists(out)).toEqual([]);
    // It acknowledges only what that message covered.
    expect(sends(out)[0]?.msg).toMatchObject({ success: true, matchIndex: 1 });
  });

  it("a follower commits no further than the entries the leader's message verified", () => {
    const core = soloCore(1, 3, { durable: disk(2, null, terms([1, 1, 1, 1])) });
    // The leader (term 2) has committed 10, but only verified our log up to 2.
    core.step(
      peer(0, {
        type: "append",
        term: 2,
        prevIndex: 2,
        prevTerm: 1,
        entries: [],
        commit: 10,
        round: 0,
      }),
    );
    expect(core.status().commitIndex).toBe(2);
  });

  it("pipelines at most maxInflight AppendEntries of at most maxEntriesPerMessage entries", () => {
    const c = new Cluster({
      n: 3,
      settings: { maxInflight: 2, maxEntriesPerMessage: 3, maxBatchCommands: 1 },
    });
    const l = c.elect();
    c.openSession(l, "a");
    const f = (l + 1) % 3;
    // Hold every acknowledgement from f.
    c.drop = (m) => m.from === f && m.msg.type === "appendReply";
    const sentBefore = c.delivered.length;
    for (let seq = 1; seq <= 20; seq++) {
      c.client(l, { type: "request", client: "a", seq, ackedBelow: 1, cmd: put("k", seq) });
    }
    c.deliverAll();
    const appends = c.delivered
      .slice(sentBefore)
      .filter((m) => m.from === l && m.to === f && m.msg.type === "append")
      .map((m) => m.msg as AppendRequest)
      .filter((m) => m.entries.length > 0);
    expect(appends.length).toBe(2);
    for (const a of appends) expect(a.entries.length).toBeLessThanOrEqual(3);
    // Acknowledgements flow again: the follower catches up.
    c.drop = undefined;
    c.run(20);
    expect(c.status(f).lastIndex).toBe(c.status(l).lastIndex);
  });

  it("bounds the bytes of entries per message (one entry always fits)", () => {
    const c = new Cluster({ n: 3, settings: { maxBytesPerMessage: 1024, maxBatchCommands: 1 } });
    const l = c.elect();
    c.openSession(l, "a");
    const f = (l + 1) % 3;
    const big = "x".repeat(300); // about 410 bytes per entry: two fit in 1024, three do not
    c.drop = (m) => m.to === f;
    for (let seq = 1; seq <= 6; seq++) {
      c.client(l, {
        type: "request",
        client: "a",
        seq,
        ackedBelow: 1,
        cmd: { op: "put", key: big, value: seq },
      });
    }
    c.run(2);
    c.drop = undefined;
    const start = c.delivered.length;
    c.run(20);
    const sizes = c.delivered
      .slice(start)
      .filter((m) => m.to === f && m.msg.type === "append" && m.msg.entries.length > 0)
      .map((m) => (m.msg as AppendRequest).entries.length);
    expect(Math.max(...sizes)).toBe(2);
    expect(c.status(f).lastIndex).toBe(c.status(l).lastIndex);
  });

  it("resends after losses: a follower cut off for a while catches up", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    const f = (l + 2) % 3;
    c.drop = (m) => m.to === f || m.from === f;
    for (let seq = 1; seq <= 10; seq++) c.command(l, "a", seq, put("k", seq));
    expect(c.status(f).lastIndex).toBeLessThan(c.status(l).lastIndex);
    c.drop = undefined;
    c.run(15);
    expect(c.status(f)).toMatchObject({
      lastIndex: c.status(l).lastIndex,
      commitIndex: c.status(l).commitIndex,
    });
    expect(c.node(f).service.appliedIndex).toBe(c.status(l).commitIndex);
  });
});

describe("the commit rule", () => {
  it("commits an entry of an older term only through an entry of the current term (Figure 8)", () => {
    // 0 holds entry 2 of term 2 that nobody else has; it becomes leader of term 5.
    const c = new Cluster({
      n: 3,
      settings: { maxEntriesPerMessage: 1 },
      durable: (id) => (id === 0 ? disk(4, null, terms([1, 2])) : disk(4, null, terms([1]))),
    });
    const commits: number[] = [];
    c.onStep = (node) => {
      if (node.id === 0 && commits.at(-1) !== node.core.status().commitIndex) {
        commits.push(node.core.status().commitIndex);
      }
    };
    campaignAlone(c, 0);
    c.run(3);
    // Entry 2 reached a majority before the noop of term 5 did, yet commit jumped straight to 3.
    expect(c.status(0).commitIndex).toBe(3);
    expect(commits).toEqual([0, 3]);
  });

  it("a leader counts itself toward commit only once its own write is durable", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    const down = (l + 1) % 3;
    c.crash(down);
    c.node(l).autoPersist = false;
    const commit = c.status(l).commitIndex;
    c.client(l, { type: "request", client: "a", seq: 1, ackedBelow: 1, cmd: put("k", 1) });
    c.run(3);
    // The entry went out before the leader's own write finished (sends with after = 0)…
    expect(c.status((l + 2) % 3).lastIndex).toBe(commit + 1);
    // …but one follower is not a majority of three without the leader's durable copy.
    expect(c.status(l).commitIndex).toBe(commit);
    c.flushDisk(l);
    expect(c.status(l).commitIndex).toBe(commit + 1);
  });

  it("a follower acknowledges entries only once they are durable", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    const f = (l + 1) % 3;
    c.node(f).autoPersist = false;
    c.crash((l + 2) % 3);
    const commit = c.status(l).commitIndex;
    c.client(l, { type: "request", client: "a", seq: 1, ackedBelow: 1, cmd: put("k", 1) });
    c.run(3);
    const acks = c
      .outputs(f, "send")
      .filter((s) => s.msg.type === "appendReply" && s.msg.matchIndex > commit);
    const persistIds = c.outputs(f, "persist").map((p) => p.id);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(persistIds).toContain(a.after);
    expect(c.status(l).commitIndex).toBe(commit); // the acks are still waiting on f's disk
    c.flushDisk(f);
    c.deliverAll();
    expect(c.status(l).commitIndex).toBe(commit + 1);
  });
});
