import { describe, expect, it } from "vitest";
import type { CoreStatus } from "../../src/core/protocol.js";
import { Ring } from "../../src/dashboard/live/ring.js";
import { TimelineDiffer } from "../../src/dashboard/live/timeline-differ.js";
import { silentLogger } from "../../src/runtime/logger.js";
import { StateWatch, stateChangesKept } from "../../src/runtime/state-watch.js";
import { down, fakeStatus, sample, up } from "./fake-status.js";

const leader = (replica: number, term: number) =>
  fakeStatus(replica, { role: "leader", leads: true, term, leader: replica });
const follower = (replica: number, term: number, lead: number) =>
  fakeStatus(replica, { term, leader: lead });

function kinds(events: readonly { kind: string; text: string }[]): string[] {
  return events.map((e) => `${e.kind}: ${e.text}`);
}

describe("the timeline's diffing of successive polls", () => {
  it("reports a leader once, its loss, and the next leader with the protocol's words", () => {
    const d = new TimelineDiffer();
    const first = d.diff(sample(0, up(leader(0, 1)), up(follower(1, 1, 0))));
    expect(kinds(first)).toContain("leader: r0 is leader (term 1)");
    expect(d.diff(sample(1, up(leader(0, 1)), up(follower(1, 1, 0))))).toEqual([]);
    const lost = kinds(d.diff(sample(2, down(0), up(follower(1, 1, 0)))));
    expect(lost).toContain("down: r0 stopped answering (connection refused)");
    expect(lost).toContain("leader: no leader answering (r0 led term 1)");
    expect(kinds(d.diff(sample(3, down(0), up(leader(1, 2)))))).toContain(
      "leader: r1 is leader (term 2)",
    );
    const pbft = new TimelineDiffer();
    const view = fakeStatus(0, {
      protocol: "pbft",
      epochName: "view",
      role: "primary",
      leads: true,
      term: 3,
    });
    expect(kinds(pbft.diff(sample(0, up(view))))).toContain("leader: r0 is primary (view 3)");
    const pair = new TimelineDiffer();
    const epoch = fakeStatus(1, {
      protocol: "primary-backup",
      epochName: "epoch",
      role: "primary",
      leads: true,
      term: 2,
    });
    expect(kinds(pair.diff(sample(0, up(epoch))))).toContain("leader: r1 is primary (epoch 2)");
  });

  it("tells a restart (new pid, also across polls it was down) from a replica answering again", () => {
    const d = new TimelineDiffer();
    d.diff(sample(0, up(fakeStatus(0, { pid: 10 }))));
    d.diff(sample(1, down(0)));
    const back = kinds(d.diff(sample(2, up(fakeStatus(0, { pid: 11 })))));
    expect(back).toEqual(["restart: r0 restarted: pid 10 → 11"]);
    d.diff(sample(3, down(0, 3, "no answer in 400 ms")));
    expect(kinds(d.diff(sample(4, up(fakeStatus(0, { pid: 11 })))))).toEqual([
      "up: r0 answering again",
    ]);
  });

  it("reports snapshots, state transfers and jumps of the rejection counters of the same process", () => {
    const d = new TimelineDiffer();
    const before = fakeStatus(1);
    d.diff(sample(0, up(before)));
    const after = fakeStatus(1, {
      snapshots: { taken: 1, installed: 1, lastTakenIndex: 64, lastInstalledIndex: 50 },
      net: { ...before.net, badMac: 2 },
      requests: { ...before.requests, refused: { forbidden: 1 } },
    });
    expect(kinds(d.diff(sample(1, up(after))))).toEqual([
      "snapshot: r1 took a snapshot at index 64",
      "state-transfer: r1 installed a snapshot at index 50 (state transfer)",
      "rejected: r1 rejected 3: net badMac +2, refused forbidden +1",
    ]);
    expect(d.diff(sample(2, up(after)))).toEqual([]);
    // A restarted process starts its counters from zero: a restart, not a jump.
    const restarted = fakeStatus(1, { pid: 99, net: { ...before.net, badMac: 5 } });
    expect(kinds(d.diff(sample(3, up(restarted))))).toEqual([
      "restart: r1 restarted: pid 1001 → 99",
    ]);
  });

  it("reports PBFT's rejections by kind, its recovering role and each new stable checkpoint", () => {
    const pbft = (seq: number, role: string, rejected: number) =>
      fakeStatus(2, {
        protocol: "pbft",
        epochName: "view",
        role,
        details: { stableCheckpoint: seq, counters: { rejected: { "bad-signature": rejected } } },
      });
    const d = new TimelineDiffer();
    d.diff(sample(0, up(pbft(0, "backup", 0))));
    expect(kinds(d.diff(sample(1, up(pbft(128, "recovering", 4)))))).toEqual([
      "state-transfer: r2 is fetching state from the others (state transfer)",
      "rejected: r2 rejected 4: pbft bad-signature +4",
      "checkpoint: stable checkpoint at sequence 128",
    ]);
    expect(d.diff(sample(2, up(pbft(128, "backup", 4))))).toEqual([]);
  });
});

describe("leader changes between two polls", () => {
  const change = (seq: number, at: number, term: number, lead: number | null, leads = false) => ({
    seq,
    at,
    role: leads ? "leader" : "follower",
    leads,
    term,
    leader: lead,
  });

  it("are each on the timeline, at their own time, from the replicas' recent changes", () => {
    const d = new TimelineDiffer();
    // History from before the dashboard started is no news.
    const r1Before = [change(1, 0, 1, 0)];
    const first = d.diff(
      sample(
        0,
        up(
          fakeStatus(0, {
            role: "leader",
            leads: true,
            term: 1,
            leader: 0,
            stateChanges: [change(1, 0, 1, 0, true)],
          }),
        ),
        up(fakeStatus(1, { term: 1, leader: 0, stateChanges: r1Before })),
      ),
    );
    expect(kinds(first).filter((k) => k.startsWith("leader"))).toEqual([
      "leader: r0 is leader (term 1)",
    ]);
    // Within one poll interval r1 leads term 2, then r0 wins term 3: the poll sees only term 3.
    const r0Now = fakeStatus(0, {
      role: "leader",
      leads: true,
      term: 3,
      leader: 0,
      stateChanges: [change(1, 0, 1, 0, true), change(2, 150, 2, 1), change(3, 300, 3, 0, true)],
    });
    const r1Now = fakeStatus(1, {
      term: 3,
      leader: 0,
      stateChanges: [...r1Before, change(2, 100, 2, 1, true), change(3, 290, 3, 0)],
    });
    const events = d.diff(sample(400, up(r0Now), up(r1Now)));
    expect(events.map((e) => [e.at, e.kind, e.text])).toEqual([
      [100, "leader", "r1 is leader (term 2)"],
      [300, "leader", "r0 is leader (term 3)"],
    ]);
    expect(d.diff(sample(800, up(r0Now), up(r1Now)))).toEqual([]);
  });

  it("are kept by each replica, newest last, in a bounded list", () => {
    const declaration = {
      roles: ["follower", "leader"],
      epochName: "term",
      leads: (s: CoreStatus) => s.role === "leader",
      campaigning: () => false,
      members: () => undefined,
    };
    let now = 0;
    const watch = new StateWatch(silentLogger, declaration, () => now);
    const status = (term: number, role: string) =>
      ({
        role,
        term,
        leader: role === "leader" ? 0 : null,
        commitIndex: 0,
        lastIndex: 0,
      }) as unknown as CoreStatus;
    for (let term = 1; term <= 20; term++) {
      now = term * 10;
      watch.check(status(term, "follower"));
      watch.check(status(term, "follower"));
      watch.check(status(term, "leader"));
    }
    const kept = watch.recent();
    expect(kept).toHaveLength(stateChangesKept);
    expect(kept.at(-1)).toEqual({
      seq: 40,
      at: 200,
      role: "leader",
      leads: true,
      term: 20,
      leader: 0,
    });
    expect(kept[0]?.seq).toBe(40 - stateChangesKept + 1);
  });
});

describe("the bounded ring", () => {
  it("keeps the newest items only", () => {
    const ring = new Ring<number>(3);
    for (let i = 0; i < 10; i++) ring.push(i);
    expect(ring.toArray()).toEqual([7, 8, 9]);
    expect(ring.last(2)).toEqual([8, 9]);
    expect(() => new Ring(0)).toThrow(RangeError);
  });
});
