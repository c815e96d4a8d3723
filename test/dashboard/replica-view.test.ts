import { describe, expect, it } from "vitest";
import { clusterView, replicaViews } from "../../src/dashboard/live/replica-view.js";
import { down, fakeStatus, sample, up } from "./fake-status.js";

const noNote = () => null;

function field(view: { fields: readonly { label: string; value: string }[] }, label: string) {
  return view.fields.find((f) => f.label === label)?.value;
}

describe("a replica's row", () => {
  it("shows raft's indexes and lag against the leader's commit index; down replicas say why", () => {
    const leader = fakeStatus(0, { role: "leader", leads: true, term: 4, commitIndex: 120 });
    const behind = fakeStatus(1, { term: 4, appliedIndex: 100, commitIndex: 110 });
    const views = replicaViews(sample(0, up(leader), up(behind), down(2)), undefined, (id) =>
      id === 2 ? "paused (SIGSTOP)" : null,
    );
    expect(views.map((v) => v.fields.map((f) => f.label))[0]).toEqual([
      "term",
      "leader",
      "commit",
      "applied",
      "last index",
      "snapshot",
      "lag",
    ]);
    expect(field(views[1]!, "lag")).toBe("20");
    expect(field(views[0]!, "lag")).toBe("-");
    expect(views[2]).toMatchObject({
      up: false,
      role: "down",
      reason: "connection refused",
      supervisor: "paused (SIGSTOP)",
    });
  });

  it("shows PBFT's sequence numbers and stable checkpoint, primary/backup's backup lag", () => {
    const pbft = fakeStatus(0, {
      protocol: "pbft",
      epochName: "view",
      role: "primary",
      leads: true,
      commitIndex: 300,
      lastIndex: 305,
      details: {
        stableCheckpoint: 256,
        lowWaterMark: 256,
        highWaterMark: 512,
        byzantine: "equivocate",
      },
    });
    const [view] = replicaViews(sample(0, up(pbft)), undefined, noNote);
    expect(field(view!, "executed")).toBe("300");
    expect(field(view!, "last seq")).toBe("305");
    expect(field(view!, "stable checkpoint")).toBe("256");
    expect(field(view!, "water marks")).toBe("256..512");
    expect(view!.byzantine).toBe("equivocate");
    const pair = fakeStatus(0, {
      protocol: "primary-backup",
      epochName: "epoch",
      role: "primary",
      leads: true,
      details: { backupLag: 7, pairedWith: 1 },
    });
    const [primary] = replicaViews(sample(0, up(pair)), undefined, noNote);
    expect(field(primary!, "backup lag")).toBe("7");
    expect(field(primary!, "paired with")).toBe("r1");
    expect(clusterView(sample(0, up(pair)), "primary-backup", null)).toMatchObject({
      leaderName: "primary",
      epochName: "epoch",
      leader: 0,
    });
  });

  it("stars only the leader of the newest term, and derives CPU from two polls of one process", () => {
    const stale = fakeStatus(0, { role: "leader", leads: true, term: 2 });
    const fresh = fakeStatus(1, { role: "leader", leads: true, term: 3 });
    const first = sample(0, up(stale), up(fresh));
    const later = fakeStatus(1, {
      role: "leader",
      leads: true,
      term: 3,
      process: { cpuUserSeconds: 1.2, cpuSystemSeconds: 0.55, residentBytes: 1 },
    });
    const views = replicaViews(sample(1_000, up(stale), up(later)), first, noNote);
    expect(views.map((v) => v.leads)).toEqual([false, true]);
    // 0.25 s of CPU in 1 s of wall time.
    expect(views[1]!.cpuPercent).toBeCloseTo(25, 9);
    expect(views[0]!.cpuPercent).toBe(0);
  });
});
