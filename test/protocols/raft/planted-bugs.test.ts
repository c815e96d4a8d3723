import { describe, expect, it } from "vitest";
import { simulatedCluster } from "../../../src/core/config.js";
import { createRandom } from "../../../src/core/prng.js";
import { emptyDurableState } from "../../../src/core/protocol.js";
import {
  createRaftProtocol,
  type RaftPlantedBug,
  raftPlantedBugs,
} from "../../../src/protocols/raft/index.js";
import { Cluster, disk, entry, peer, persists, put, sends, soloCore } from "./harness.js";

const vote = (term: number, lastIndex: number, lastTerm: number) =>
  ({ type: "vote", term, lastIndex, lastTerm, pre: false, transfer: false }) as const;

/** Each scenario returns an observation; the correct core and the broken one must differ. */
const scenarios: Record<RaftPlantedBug, (bug: RaftPlantedBug | undefined) => unknown> = {
  // Figure 8: entry 2 (term 2) reaches a majority before the leader's term-5 noop does.
  "commit-old-term-by-counting": (bug) => {
    const c = new Cluster({
      n: 3,
      bug,
      settings: { maxEntriesPerMessage: 1 },
      durable: (id) =>
        id === 0 ? disk(4, null, [entry(1, 1), entry(2, 2)]) : disk(4, null, [entry(1, 1)]),
    });
    const commits: number[] = [];
    c.onStep = (node) => {
      const ci = node.core.status().commitIndex;
      if (node.id === 0 && commits.at(-1) !== ci) commits.push(ci);
    };
    for (let i = 0; i < 100 && c.status(0).role !== "leader"; i++) {
      c.tick(0);
      c.deliverAll();
    }
    c.run(3);
    return commits; // correct: [0, 3]; broken: [0, 2, 3]
  },

  "double-vote": (bug) => {
    const core = soloCore(0, 3, { bug, durable: disk(1, null, []) });
    core.step(peer(1, vote(2, 0, 0)));
    return sends(core.step(peer(2, vote(2, 0, 0))))[0]?.msg; // a second grant in term 2?
  },

  // The vote is lost in a crash, so the replica votes again in the same term.
  "vote-not-persisted": (bug) => {
    const c = new Cluster({ n: 3, bug });
    const first = c.step(0, peer(1, vote(5, 0, 0)));
    c.crash(0);
    c.restart(0);
    const second = c.step(0, peer(2, vote(5, 0, 0)));
    return {
      firstAfter: sends(first)[0]?.after,
      written: persists(first)[0]?.ops,
      secondGranted: (sends(second)[0]?.msg as { granted?: boolean } | undefined)?.granted,
    };
  },

  "apply-before-commit": (bug) => {
    const core = soloCore(1, 3, { bug, durable: disk(1, null, []) });
    const out = core.step(
      peer(0, {
        type: "append",
        term: 1,
        prevIndex: 0,
        prevTerm: 0,
        entries: [entry(1, 1)],
        commit: 0,
        round: 0,
      }),
    );
    return out.filter((o) => o.type === "apply");
  },

  "stale-term-append-accepted": (bug) => {
    const core = soloCore(1, 3, { bug, durable: disk(5, null, [entry(1, 5)]) });
    const out = core.step(
      peer(0, {
        type: "append",
        term: 3,
        prevIndex: 0,
        prevTerm: 0,
        entries: [entry(1, 3)],
        commit: 0,
        round: 0,
      }),
    );
    return { reply: sends(out)[0]?.msg, lastIndex: core.status().lastIndex };
  },

  // A leader cut off from the others keeps answering reads with what it had.
  "read-index-without-quorum": (bug) => {
    const c = new Cluster({ n: 3, bug });
    const old = c.elect();
    c.openSession(old, "a");
    c.command(old, "a", 1, put("k", 1));
    c.isolate(old);
    c.runUntil(() => c.leader() !== undefined && c.leader() !== old, 100);
    c.command(c.leader()!, "a", 2, put("k", 2));
    c.client(old, { type: "query", client: "r", qid: 1, q: { get: "k" } });
    c.run(2);
    return c.repliesTo("r").map((r) => r.msg); // correct: nothing yet; broken: the stale value 1
  },

  // A lease-read leader paused for 10 s gets a read before its next tick: the lease has expired
  // by the clock at the read, but not by the clock of the last tick.
  "lease-read-stale-clock": (bug) => {
    const c = new Cluster({ n: 3, bug, settings: { leaseReads: true } });
    const l = c.elect();
    c.run(3);
    const pausedFor = 10_000;
    const out = c.client(
      l,
      { type: "query", client: "r", qid: 1, q: { get: "k" } },
      c.node(l).now + pausedFor,
    );
    return out.filter((o) => o.type === "query").length; // correct: 0 (a ReadIndex round); broken: 1
  },

  "vote-without-log-check": (bug) => {
    const core = soloCore(0, 3, { bug, durable: disk(2, null, [entry(1, 1), entry(2, 2)]) });
    return sends(core.step(peer(1, vote(3, 1, 1))))[0]?.msg;
  },

  "ack-before-persist": (bug) => {
    const core = soloCore(1, 3, { bug, durable: disk(1, null, []) });
    const out = core.step(
      peer(0, {
        type: "append",
        term: 1,
        prevIndex: 0,
        prevTerm: 0,
        entries: [entry(1, 1)],
        commit: 0,
        round: 0,
      }),
    );
    return sends(out)[0]?.after; // correct: the persist id; broken: 0
  },
};

describe("planted bugs", () => {
  it("every planted bug has a scenario here", () => {
    expect(Object.keys(scenarios).sort()).toEqual([...raftPlantedBugs].sort());
  });

  for (const bug of raftPlantedBugs) {
    it(`${bug}: the broken core behaves differently from the correct one`, () => {
      const correct = scenarios[bug](undefined);
      const broken = scenarios[bug](bug);
      expect(broken).not.toEqual(correct);
    });
  }

  it("the observations match the known mistakes", () => {
    expect(scenarios["commit-old-term-by-counting"](undefined)).toEqual([0, 3]);
    expect(scenarios["commit-old-term-by-counting"]("commit-old-term-by-counting")).toEqual([
      0, 2, 3,
    ]);
    expect(scenarios["double-vote"](undefined)).toMatchObject({ granted: false });
    expect(scenarios["double-vote"]("double-vote")).toMatchObject({ granted: true });
    expect(scenarios["vote-not-persisted"](undefined)).toEqual({
      firstAfter: 1,
      written: [{ type: "hardState", state: { term: 5, vote: 1 } }],
      secondGranted: false,
    });
    expect(scenarios["vote-not-persisted"]("vote-not-persisted")).toEqual({
      firstAfter: 0,
      written: [{ type: "hardState", state: { term: 5, vote: null } }],
      secondGranted: true,
    });
    expect(scenarios["apply-before-commit"](undefined)).toEqual([]);
    expect(scenarios["apply-before-commit"]("apply-before-commit")).toHaveLength(1);
    expect(scenarios["stale-term-append-accepted"](undefined)).toMatchObject({
      reply: { term: 5, success: false },
    });
    expect(scenarios["stale-term-append-accepted"]("stale-term-append-accepted")).toMatchObject({
      reply: { term: 3, success: true },
    });
    expect(scenarios["read-index-without-quorum"](undefined)).toEqual([]);
    expect(scenarios["read-index-without-quorum"]("read-index-without-quorum")).toEqual([
      { type: "queryReply", client: "r", qid: 1, result: { ok: true, value: 1 } },
    ]);
    expect(scenarios["lease-read-stale-clock"](undefined)).toBe(0);
    expect(scenarios["lease-read-stale-clock"]("lease-read-stale-clock")).toBe(1);
    expect(scenarios["vote-without-log-check"](undefined)).toMatchObject({ granted: false });
    expect(scenarios["vote-without-log-check"]("vote-without-log-check")).toMatchObject({
      granted: true,
    });
    expect(scenarios["ack-before-persist"](undefined)).toBe(1);
    expect(scenarios["ack-before-persist"]("ack-before-persist")).toBe(0);
  });

  it("createRaftProtocol passes the planted bug to its replicas", () => {
    const protocol = createRaftProtocol({ plantedBug: "double-vote" });
    const config = simulatedCluster("raft", 3, 1);
    const core = protocol.createReplica({
      id: 0,
      config,
      random: createRandom(1),
      crypto: undefined as never,
      durable: {
        hardState: { term: 1, vote: null },
        snapshot: undefined,
        entries: [],
        records: new Map(),
      },
    });
    core.step(peer(1, vote(2, 0, 0)));
    expect(sends(core.step(peer(2, vote(2, 0, 0))))[0]?.msg).toMatchObject({ granted: true });
    expect(emptyDurableState.entries).toEqual([]);
  });
});
