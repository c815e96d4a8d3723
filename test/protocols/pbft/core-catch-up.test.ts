import { describe, expect, it } from "vitest";
import { signPrePrepare } from "../../../src/protocols/pbft/authenticator.js";
import { requestDigest } from "../../../src/protocols/pbft/signed-bytes.js";
import { type InFlight, PbftHarness } from "./core-harness.js";

/**
 * A correct replica left behind must catch up through the normal case, not only at the next
 * stable checkpoint or view change: once the load stops neither may come, and a client that
 * needs 2f+1 matching replies (readOnlyQueries) then waits for it. Three ways to be left behind:
 * a faulty primary's other pre-prepare (Twins seed 402), a view change nobody else joined, and a
 * restart after which the replica abstains and so never commits in the others' eyes.
 */
const put = (key: string, value: number) => ({ op: "put", key, value });
const touches3 = (m: InFlight) => m.to === 3 || m.from === 3;

function cluster(settings: Record<string, number | boolean> = {}): PbftHarness {
  const h = new PbftHarness({
    settings: {
      checkpointInterval: 64,
      windowSize: 128,
      maxBatchRequests: 1,
      retransmitTicks: 2,
      requestTimeoutTicks: 4,
      viewChangeTicks: 4,
      ...settings,
    },
  });
  h.tick();
  return h;
}

/** Orders `count` puts from alice (one per seq) with replica 3 cut off, delivering as it goes. */
function orderWithout3(h: PbftHarness, count: number): void {
  h.client(0, h.request("alice", 0, null));
  h.deliver({ quiet: true, drop: touches3 });
  for (let t = 1; t <= count; t++) {
    h.client(0, h.request("alice", t, put(`k${t}`, t)));
    h.deliver({ quiet: true, drop: touches3 });
  }
}

/** Retransmission rounds: every replica ticks `retransmitTicks` times, then the network drains. */
function rounds(h: PbftHarness, count: number, drop?: (m: InFlight) => boolean): void {
  for (let i = 0; i < count; i++) {
    h.tick(h.all(), 2);
    h.deliver({ quiet: true, ...(drop ? { drop } : {}) });
  }
}

describe("a correct replica left behind catches up in the normal case", () => {
  it("one that timed out alone executes what the others commit in the view it left, voting no more in it", () => {
    const h = cluster();
    // Replica 3 holds a request it cannot get ordered (cut off), times out and asks for view 1.
    h.client(3, h.request("bob", 0, null));
    h.lose(touches3);
    for (let i = 0; i < 6; i++) h.tick([3]);
    h.lose(touches3);
    expect(h.status([3])).toMatch(/^3: \S+ view=1 /);
    // The others never hear of it and go on in view 0.
    orderWithout3(h, 3);
    expect(h.services.map((s) => s.appliedIndex)).toEqual([4, 4, 4, 0]);
    // The network heals. Replica 3 executes seqs 1–4 from the others' retransmissions while it
    // still waits for view 1, and sends no PREPARE or COMMIT of view 0.
    const sentBy3: string[] = [];
    rounds(h, 4, (m) => {
      if (m.from === 3 && (m.msg.type === "prepare" || m.msg.type === "commit")) {
        sentBy3.push(m.msg.type);
      }
      return false;
    });
    expect(h.services[3]!.appliedIndex).toBe(4);
    expect(h.status([3])).toMatch(/^3: \S+ view=1 /);
    expect(sentBy3).toEqual([]);
  });

  it("one the others never hear commit still gets every slot, not the lowest few again and again", () => {
    const h = cluster();
    orderWithout3(h, 11); // seqs 1–12: more than the 8 slots one retransmission round resends
    expect(h.services.map((s) => s.appliedIndex)).toEqual([12, 12, 12, 0]);
    // Replica 3 is back but nothing it sends arrives (as after a restart, when it abstains):
    // the others keep resending to it, each round going on where the last one stopped.
    rounds(h, 3, (m) => m.from === 3);
    expect(h.services[3]!.appliedIndex).toBe(12);
  });

  it("one that took an equivocating primary's other pre-prepare adopts the one 2f+1 COMMITs certify", () => {
    const h = cluster();
    const bob = h.request("bob", 0, null);
    const alice = h.request("alice", 0, null);
    // Replica 0, faulty, proposes bob to replicas 1 and 2 and alice to replica 3 (same seq, same
    // view, both signed by it); then replica 3 is cut off.
    h.client(0, bob);
    h.deliver({
      quiet: true,
      rewrite: (m) => {
        if (m.from !== 0 || m.to !== 3 || m.msg.type !== "preprepare") return m;
        const lie = signPrePrepare(
          h.keys.replica(0),
          {
            view: 0,
            seq: m.msg.seq,
            batch: { time: m.msg.batch.time, requests: [requestDigest(h.keys.replica(0), alice)] },
            replica: 0,
          },
          [alice],
        );
        return { ...m, msg: lie };
      },
      drop: (m) => touches3(m) && m.msg.type !== "preprepare",
    });
    expect(h.services.map((s) => s.appliedIndex)).toEqual([1, 1, 1, 0]);
    // Healed: the backups' retransmissions carry their COMMITs and the primary's pre-prepare for
    // bob (signed by the primary, so anyone may forward it). Replica 3 adopts it, executes bob,
    // and never PREPAREs it (it already PREPAREd alice in this view).
    const prepares3: string[] = [];
    rounds(h, 3, (m) => {
      if (m.from === 3 && m.msg.type === "prepare") prepares3.push(h.show(m.msg));
      return false;
    });
    expect(h.services[3]!.appliedIndex).toBe(1);
    expect(h.services[3]!.snapshot()).toEqual(h.services[1]!.snapshot());
    expect(prepares3.length).toBeGreaterThan(0);
    expect(prepares3.filter((p) => !p.includes("[alice#0]"))).toEqual([]);
    expect(h.cores[3]!.counters.adoptedCommitted).toBe(1);
  });
});

describe("a replica fetching a state that a newer stable checkpoint supersedes", () => {
  it("fetches the newer one (the holders of the older state may have discarded it)", () => {
    const h = cluster({ checkpointInterval: 2, windowSize: 8, chunkBytes: 64 });
    h.client(0, h.request("alice", 0, null));
    h.client(0, h.request("alice", 1, put("k1", 1)));
    h.deliver({ quiet: true });
    expect(h.services[3]!.appliedIndex).toBe(2);
    // Replica 3 gets only CHECKPOINTs while seqs 3–4 execute elsewhere: it learns that
    // checkpoint 4 is stable, waits for retransmissions that do not come, and fetches state 4.
    const onlyCheckpointsTo3 = (m: InFlight) => touches3(m) && m.msg.type !== "checkpoint";
    for (let t = 2; t <= 3; t++) {
      h.client(0, h.request("alice", t, put(`k${t}`, t)));
      h.deliver({ quiet: true, drop: onlyCheckpointsTo3 });
    }
    const fetches: string[] = [];
    const noChunkTo3 = (m: InFlight) => {
      if (m.from === 3 && m.msg.type === "fetch") fetches.push(h.show(m.msg));
      return touches3(m) && m.msg.type !== "checkpoint" && m.msg.type !== "fetch";
    };
    for (let i = 0; i < 12; i++) {
      h.tick([3]);
      h.deliver({ quiet: true, drop: noChunkTo3 });
    }
    expect(fetches.at(-1)).toMatch(/fetch s=4 /);
    // The others move on to checkpoint 6 and keep only that state; replica 3 hears of it.
    for (let t = 4; t <= 5; t++) {
      h.client(0, h.request("alice", t, put(`k${t}`, t)));
      h.deliver({ quiet: true, drop: noChunkTo3 });
    }
    expect(h.services[0]!.appliedIndex).toBe(6);
    // Healed: replica 3 must ask for state 6, install it and be where the others are.
    rounds(h, 6, (m) => {
      if (m.from === 3 && m.msg.type === "fetch") fetches.push(h.show(m.msg));
      return false;
    });
    expect(fetches.at(-1)).toMatch(/fetch s=6 /);
    expect(h.services[3]!.appliedIndex).toBe(6);
    expect(h.services[3]!.snapshot()).toEqual(h.services[0]!.snapshot());
  });
});

describe("a replica that missed a checkpoint when no more are coming", () => {
  it("is sent the stable checkpoint's proof by the others and fetches the state", () => {
    const h = cluster({ checkpointInterval: 4, windowSize: 8, chunkBytes: 64 });
    orderWithout3(h, 11); // seqs 1–12: checkpoint 12 stable at the others, every slot collected
    expect(h.status([0])).toContain("stable=12");
    // Healed, and the load has stopped: replica 3 has nothing to retransmit and the others no
    // slot to resend, but they see it never sent a CHECKPOINT for 12 and send it the proof.
    const proofs: string[] = [];
    rounds(h, 6, (m) => {
      if (m.to === 3 && m.msg.type === "checkpoint" && m.msg.replica !== m.from)
        proofs.push(h.show(m.msg));
      return false;
    });
    expect(proofs.length).toBeGreaterThan(0);
    expect(h.services[3]!.appliedIndex).toBe(12);
    expect(h.services[3]!.snapshot()).toEqual(h.services[0]!.snapshot());
  });
});
