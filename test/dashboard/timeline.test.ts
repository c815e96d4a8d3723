import { describe, expect, it } from "vitest";
import { Ring } from "../../src/dashboard/live/ring.js";
import { TimelineDiffer } from "../../src/dashboard/live/timeline-differ.js";
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

describe("the bounded ring", () => {
  it("keeps the newest items only", () => {
    const ring = new Ring<number>(3);
    for (let i = 0; i < 10; i++) ring.push(i);
    expect(ring.toArray()).toEqual([7, 8, 9]);
    expect(ring.last(2)).toEqual([8, 9]);
    expect(() => new Ring(0)).toThrow(RangeError);
  });
});
