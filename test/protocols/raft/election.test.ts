import { describe, expect, it } from "vitest";
import type { RaftCore } from "../../../src/protocols/raft/core.js";
import { Cluster, disk, entry, peer, persists, sends, soloCore } from "./harness.js";

/** Ticks a lone core until it emits something; returns those outputs. */
function tickUntilOutput(core: RaftCore, limit = 100) {
  for (let t = 1; t <= limit; t++) {
    const out = core.step({ type: "tick", now: t * 10, mono: t * 10 });
    if (out.length > 0) return out;
  }
  throw new Error("no output");
}

const vote = (term: number, lastIndex: number, lastTerm: number, pre = false, transfer = false) =>
  ({ type: "vote", term, lastIndex, lastTerm, pre, transfer }) as const;

describe("elections", () => {
  it("a follower's timeout starts a pre-vote that changes neither term nor vote", () => {
    const core = soloCore(0, 3);
    const out = tickUntilOutput(core);
    expect(core.status()).toMatchObject({ role: "precandidate", term: 0 });
    expect(persists(out)).toEqual([]);
    expect(sends(out)).toEqual([
      { type: "send", to: 1, msg: vote(1, 0, 0, true), after: 0 },
      { type: "send", to: 2, msg: vote(1, 0, 0, true), after: 0 },
    ]);
  });

  it("a won pre-vote becomes a real candidacy: term and self-vote durable before RequestVote leaves", () => {
    const core = soloCore(0, 3);
    tickUntilOutput(core);
    const out = core.step(peer(1, { type: "voteReply", term: 1, granted: true, pre: true }));
    expect(core.status()).toMatchObject({ role: "candidate", term: 1 });
    const [p] = persists(out);
    expect(p?.ops).toEqual([{ type: "hardState", state: { term: 1, vote: 0 } }]);
    for (const s of sends(out)) {
      expect(s.msg).toEqual(vote(1, 0, 0, false));
      expect(s.after).toBe(p?.id);
    }
  });

  it("a candidate counts its own vote only once it is durable (single replica)", () => {
    const core = soloCore(0, 1);
    const out = tickUntilOutput(core);
    // Pre-vote is won alone at once; the real candidacy waits for its hard state.
    expect(core.status()).toMatchObject({ role: "candidate", term: 1 });
    const [p] = persists(out);
    core.step({ type: "persisted", upTo: p!.id });
    expect(core.status()).toMatchObject({ role: "leader", term: 1, leader: 0 });
  });

  it("grants a vote only to a candidate whose log is at least as up to date", () => {
    const log = [entry(1, 1), entry(2, 2)];
    const cases = [
      { lastIndex: 5, lastTerm: 1, granted: false }, // older last term, longer log
      { lastIndex: 1, lastTerm: 2, granted: false }, // same last term, shorter log
      { lastIndex: 2, lastTerm: 2, granted: true }, // same
      { lastIndex: 1, lastTerm: 3, granted: true }, // newer last term, shorter log
    ];
    for (const c of cases) {
      const core = soloCore(0, 3, { durable: disk(2, null, log) });
      const out = core.step(peer(1, vote(3, c.lastIndex, c.lastTerm)));
      expect(sends(out).map((s) => s.msg)).toEqual([
        { type: "voteReply", term: 3, granted: c.granted, pre: false },
      ]);
      // Either way the higher term was adopted.
      expect(core.status().term).toBe(3);
    }
  });

  it("votes once per term: a second candidate is refused, the same one again is not", () => {
    const core = soloCore(0, 3, { durable: disk(1, null, [entry(1, 1)]) });
    expect(sends(core.step(peer(1, vote(2, 1, 1))))[0]?.msg).toMatchObject({ granted: true });
    expect(sends(core.step(peer(2, vote(2, 1, 1))))[0]?.msg).toMatchObject({ granted: false });
    expect(sends(core.step(peer(1, vote(2, 1, 1))))[0]?.msg).toMatchObject({ granted: true });
    expect(core.status().details).toMatchObject({ vote: 1 });
  });

  it("a granted vote leaves only after the persist that records it", () => {
    const core = soloCore(0, 3);
    const out = core.step(peer(2, vote(4, 0, 0)));
    const [p] = persists(out);
    expect(p?.ops).toEqual([{ type: "hardState", state: { term: 4, vote: 2 } }]);
    const [reply] = sends(out);
    expect(reply).toMatchObject({ to: 2, msg: { granted: true }, after: p?.id });
    // The persist comes first in the output list.
    expect(out.indexOf(p!)).toBeLessThan(out.indexOf(reply!));
  });

  it("answers a pre-vote without persisting or adopting its term", () => {
    const core = soloCore(0, 3, { durable: disk(3, 1, [entry(1, 3)]) });
    const granted = core.step(peer(2, vote(4, 1, 3, true)));
    expect(granted).toEqual([
      {
        type: "send",
        to: 2,
        msg: { type: "voteReply", term: 4, granted: true, pre: true },
        after: 0,
      },
    ]);
    // A stale log is refused; the refusal carries our own term.
    const refused = core.step(peer(2, vote(4, 0, 0, true)));
    expect(sends(refused)[0]?.msg).toEqual({
      type: "voteReply",
      term: 3,
      granted: false,
      pre: true,
    });
    expect(core.status()).toMatchObject({ term: 3, details: { vote: 1 } });
  });

  it("a precandidate whose term is behind adopts the term of a refusal", () => {
    const core = soloCore(0, 3, { durable: disk(2, null, [entry(1, 2)]) });
    tickUntilOutput(core);
    core.step(peer(1, { type: "voteReply", term: 5, granted: false, pre: true }));
    expect(core.status()).toMatchObject({ role: "follower", term: 5 });
  });

  it("elects exactly one leader in a healthy cluster, in term 1 thanks to pre-vote", () => {
    const c = new Cluster({ n: 5 });
    const leader = c.elect();
    const terms = c.nodes.map((n) => n.core.status().term);
    expect(terms).toEqual([1, 1, 1, 1, 1]);
    expect(c.nodes.filter((n) => n.core.status().role === "leader").map((n) => n.id)).toEqual([
      leader,
    ]);
  });

  it("draws election timeouts from the injected PRNG: same seed, same run", () => {
    const run = (seed: number) => {
      const c = new Cluster({ n: 3, seed });
      const leader = c.elect();
      return { leader, delivered: c.delivered.length, traces: c.nodes.map((n) => n.trace.length) };
    };
    expect(run(7)).toEqual(run(7));
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8].map((s) => run(s).leader);
    expect(new Set(seeds).size).toBeGreaterThan(1);
  });
});

describe("terms", () => {
  it("a leader that sees a higher term steps down and persists it", () => {
    const c = new Cluster({ n: 3 });
    const leader = c.elect();
    const term = c.status(leader).term;
    const follower = (leader + 1) % 3;
    const out = c.step(
      leader,
      peer(follower, {
        type: "appendReply",
        term: term + 1,
        success: false,
        matchIndex: 0,
        rejectedIndex: 0,
        conflictIndex: 0,
        conflictTerm: 0,
        round: 0,
      }),
    );
    expect(c.status(leader)).toMatchObject({ role: "follower", term: term + 1 });
    expect(persists(out)[0]?.ops).toEqual([
      { type: "hardState", state: { term: term + 1, vote: null } },
    ]);
  });

  it("answers AppendEntries from a deposed leader with its newer term", () => {
    const core = soloCore(1, 3, { durable: disk(5, null, [entry(1, 5)]) });
    const out = core.step(
      peer(0, {
        type: "append",
        term: 3,
        prevIndex: 0,
        prevTerm: 0,
        entries: [entry(1, 3)],
        commit: 1,
        round: 0,
      }),
    );
    expect(sends(out)[0]?.msg).toMatchObject({ type: "appendReply", term: 5, success: false });
    expect(core.status()).toMatchObject({ term: 5, lastIndex: 1, commitIndex: 0 });
  });

  it("leader stickiness: a follower in contact with its leader ignores a vote request, unless it is a transfer", () => {
    const c = new Cluster({ n: 3 });
    const leader = c.elect();
    const follower = (leader + 1) % 3;
    const other = (leader + 2) % 3;
    const s = c.status(follower);
    expect(c.step(follower, peer(other, vote(s.term + 1, s.lastIndex, s.term)))).toEqual([]);
    expect(c.status(follower).term).toBe(s.term);
    const out = c.step(follower, peer(other, vote(s.term + 1, s.lastIndex, s.term, false, true)));
    expect(sends(out)[0]?.msg).toMatchObject({ type: "voteReply", granted: true });
  });
});

describe("check-quorum", () => {
  it("an isolated leader steps down within an election timeout; the minority side keeps its term", () => {
    const c = new Cluster({ n: 3, settings: { electionTicks: 10 } });
    const old = c.elect();
    const term = c.status(old).term;
    c.isolate(old);
    c.run(25);
    expect(c.status(old)).toMatchObject({ role: "follower", term });
    const fresh = c.leader();
    expect(fresh).not.toBe(old);
    expect(c.status(fresh!).term).toBe(term + 1);
    // Its pre-votes fail, so the isolated replica does not inflate its term however long it waits.
    c.run(100);
    expect(c.status(old).term).toBe(term);
    c.heal();
    c.run(5);
    expect(c.status(old)).toMatchObject({ role: "follower", term: term + 1, leader: fresh });
  });

  it("without pre-vote an isolated replica inflates its term (the contrast)", () => {
    const c = new Cluster({ n: 3, settings: { preVote: false } });
    const leader = c.elect();
    const victim = (leader + 1) % 3;
    const term = c.status(victim).term;
    c.isolate(victim);
    c.run(100);
    expect(c.status(victim).term).toBeGreaterThan(term + 2);
  });

  it("without check-quorum an isolated leader stays leader", () => {
    const c = new Cluster({ n: 3, settings: { checkQuorum: false } });
    const leader = c.elect();
    c.isolate(leader);
    c.run(60);
    expect(c.status(leader).role).toBe("leader");
  });
});
