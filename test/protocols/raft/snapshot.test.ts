import { describe, expect, it } from "vitest";
import { decode } from "../../../src/platform/codec.js";
import type { SnapshotChunk } from "../../../src/protocols/raft/messages.js";
import { snapshotTerm } from "../../../src/protocols/raft/snapshot-meta.js";
import { Cluster, disk, entry, put } from "./harness.js";

function fill(c: Cluster, leader: number, from: number, to: number): void {
  for (let seq = from; seq <= to; seq++) c.command(leader, "a", seq, put(`k${seq % 4}`, seq));
}

describe("snapshots", () => {
  it("asks for a snapshot every snapshotEvery applied entries, persists it with the membership, compacts with slack", () => {
    const c = new Cluster({ n: 3, settings: { snapshotEvery: 5, compactionSlack: 2 } });
    const l = c.elect();
    c.openSession(l, "a");
    fill(c, l, 1, 8);
    const asked = c.outputs(l, "takeSnapshot").map((o) => o.index);
    expect(asked.length).toBeGreaterThanOrEqual(1);
    expect(asked[0]).toBeGreaterThanOrEqual(5);
    const snaps = c
      .outputs(l, "persist")
      .flatMap((p) => p.ops.filter((o) => o.type === "snapshot"));
    expect(snaps.map((s) => s.type === "snapshot" && s.meta.index)).toEqual(asked);
    const last = snaps.at(-1)!;
    if (last.type !== "snapshot") throw new Error("unreachable");
    expect(last.meta).toMatchObject({ config: { voters: [0, 1, 2], learners: [] } });
    expect(snapshotTerm(last.meta)).toBe(c.status(l).term);
    // The in-memory log keeps `compactionSlack` entries below the snapshot.
    expect(c.status(l).details).toMatchObject({
      snapshotIndex: last.meta.index,
      firstIndex: last.meta.index - 1,
    });
    // The durable log starts after the snapshot.
    expect(
      c
        .node(l)
        .disk.build()
        .entries.every((e) => e.index > last.meta.index),
    ).toBe(true);
  });

  it("never asks when snapshotEvery is 0", () => {
    const c = new Cluster({ n: 1, settings: { snapshotEvery: 0 } });
    const l = c.elect();
    c.openSession(l, "a");
    fill(c, l, 1, 10);
    expect(c.outputs(l, "takeSnapshot")).toEqual([]);
  });

  it("sends a lagging follower the snapshot in chunks; it persists and installs it", () => {
    const c = new Cluster({
      n: 3,
      settings: { snapshotEvery: 5, compactionSlack: 1, snapshotChunkBytes: 16 },
    });
    const l = c.elect();
    c.openSession(l, "a");
    const lag = (l + 1) % 3;
    c.crash(lag);
    fill(c, l, 1, 20);
    c.restart(lag);
    c.run(40);
    const chunks = c.delivered
      .filter((m) => m.to === lag && m.msg.type === "snapshot")
      .map((m) => m.msg as SnapshotChunk);
    expect(chunks.length).toBeGreaterThan(2);
    for (const ch of chunks) expect(ch.data.length).toBeLessThanOrEqual(16);
    expect(chunks.at(-1)?.done).toBe(true);
    const installed = c.outputs(lag, "installSnapshot");
    expect(installed.length).toBe(1);
    const meta = installed[0]!.meta;
    // It was persisted before the acknowledgement, and the log continues from it.
    const built = c.node(lag).disk.build();
    expect(built.snapshot?.meta).toEqual(meta);
    expect(c.status(lag)).toMatchObject({
      commitIndex: c.status(l).commitIndex,
      lastIndex: c.status(l).lastIndex,
    });
    expect(c.node(lag).service.snapshot()).toEqual(c.node(l).service.snapshot());
    // Applies after the install start right above the snapshot.
    const applied = c.outputs(lag, "apply").flatMap((a) => a.entries.map((e) => e.index));
    expect(applied.every((i) => i > meta.index)).toBe(true);
  });

  it("a follower installing a snapshot that disagrees with its log discards the log", () => {
    // Follower 2 holds a stale suffix of term 1 beyond the leader's snapshot.
    const c = new Cluster({
      n: 3,
      settings: { snapshotEvery: 4, compactionSlack: 0 },
      durable: (id) =>
        id === 2
          ? disk(1, null, [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1), entry(5, 1)])
          : disk(1, null, []),
    });
    c.crash(2);
    const l = c.elect();
    c.openSession(l, "a");
    fill(c, l, 1, 12);
    c.restart(2);
    c.run(30);
    expect(c.outputs(2, "installSnapshot").length).toBe(1);
    expect(
      c
        .node(2)
        .disk.build()
        .entries.every((e) => e.term > 1),
    ).toBe(true);
    expect(c.node(2).service.snapshot()).toEqual(c.node(l).service.snapshot());
  });
});

describe("recovery from durable state", () => {
  it("every replica restarts from its disk and re-applies committed entries once it learns the commit index", () => {
    const c = new Cluster({ n: 3, settings: { snapshotEvery: 6 } });
    const l = c.elect();
    c.openSession(l, "a");
    fill(c, l, 1, 10);
    c.run(3);
    const state = c.node(l).service.snapshot();
    const term = c.status(l).term;
    for (const node of c.nodes) c.crash(node.id);
    for (const node of c.nodes) c.restart(node.id);
    for (const node of c.nodes) {
      const s = node.core.status();
      const snap = node.disk.build().snapshot;
      // Restored from disk: term, vote, log; the commit index is back at the snapshot.
      expect(s.term).toBe(term);
      expect(s.commitIndex).toBe(snap?.meta.index ?? 0);
      expect(node.service.appliedIndex).toBe(snap?.meta.index ?? 0);
    }
    const l2 = c.elect();
    c.run(3);
    for (const node of c.nodes)
      expect(node.service.snapshot()).toEqual(c.node(l2).service.snapshot());
    // Same data as before the crash. The new leader's noop changes no service state or session,
    // only the applied index and the agreed time (fields 0 and 3 of the snapshot envelope).
    expect(c.node(l2).service.query({ get: "k2" })).toEqual({ ok: true, value: 10 });
    const [, sessionsAfter, machineAfter] = decode(c.node(l2).service.snapshot()) as unknown[];
    const [, sessionsBefore, machineBefore] = decode(state) as unknown[];
    expect(machineAfter).toEqual(machineBefore);
    expect(sessionsAfter).toEqual(sessionsBefore);
    // Sessions survive too: a retry of seq 10 gets its recorded result.
    expect(c.command(l2, "a", 10, put("k2", 999))).toMatchObject({
      result: { ok: true, value: 10 },
    });
  });

  it("entry times do not go back after a restart from a snapshot, even with a slower clock", () => {
    const c = new Cluster({ n: 1, settings: { snapshotEvery: 1 } });
    const l = c.elect();
    c.openSession(l, "a");
    c.command(l, "a", 1, put("k", 1));
    const disk = c.node(l).disk.build();
    const lastTime = Math.max(
      ...c.outputs(l, "apply").flatMap((a) => a.entries.map((e) => e.time)),
    );
    expect(disk.entries).toEqual([]); // everything is in the snapshot
    expect(disk.hardState).toMatchObject({ snapshotTime: lastTime });
    c.crash(l);
    c.restart(l);
    c.node(l).now = 0; // this clock is now far behind
    c.elect();
    c.command(l, "a", 2, put("k", 2));
    const times = c.outputs(l, "apply").flatMap((a) => a.entries.map((e) => e.time));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(lastTime);
  });

  it("a replica that voted keeps its vote across a restart", () => {
    const c = new Cluster({ n: 3 });
    c.step(0, {
      type: "peer",
      from: 1,
      msg: { type: "vote", term: 5, lastIndex: 0, lastTerm: 0, pre: false, transfer: false },
    });
    c.crash(0);
    c.restart(0);
    expect(c.status(0)).toMatchObject({ term: 5, details: { vote: 1 } });
    const out = c.step(0, {
      type: "peer",
      from: 2,
      msg: { type: "vote", term: 5, lastIndex: 0, lastTerm: 0, pre: false, transfer: false },
    });
    expect(out.find((o) => o.type === "send")).toMatchObject({ msg: { granted: false } });
  });
});
