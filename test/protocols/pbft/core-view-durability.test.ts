import { describe, expect, it } from "vitest";
import { signPrePrepare } from "../../../src/protocols/pbft/authenticator.js";
import type { NewView, Prepare } from "../../../src/protocols/pbft/messages.js";
import { requestDigest } from "../../../src/protocols/pbft/signed-bytes.js";
import { PbftHarness } from "./core-harness.js";

/**
 * A replica that enters a view through NEW-VIEW persists the view, and every message it sends in
 * that view waits for the write. If it crashes before the write is durable it restarts with the
 * older stored view and moves to the next view, the very view it was entering; since nothing it
 * said there left, it cannot have PREPAREd two digests for one (view, seq) (durable.ts).
 */
describe("a view entered through NEW-VIEW is durable before the replica votes in it", () => {
  it("replica 3 jumps from view 0 to view 1 on NEW-VIEW, prepares, crashes, and must not prepare another digest", () => {
    const h = new PbftHarness({
      settings: { checkpointInterval: 4, windowSize: 8, requestTimeoutTicks: 50 },
    });
    h.tick();
    // 0, 1 and 2 change to view 1 (a proposal with a time far ahead) while 3 hears nothing.
    const req = h.request("alice", 0, null);
    const ahead = signPrePrepare(
      h.keys.replica(0),
      {
        view: 0,
        seq: 1,
        batch: { time: 99_000, requests: [requestDigest(h.keys.replica(0), req)] },
        replica: 0,
      },
      [req],
    );
    h.inject(0, 1, ahead);
    h.inject(0, 2, ahead);
    const to3: NewView[] = [];
    h.deliver({
      quiet: true,
      drop: (m) => {
        if (m.to === 3 && m.msg.type === "newview") to3.push(m.msg);
        return m.to === 3 || m.from === 3;
      },
    });
    expect(h.status([0, 1, 2, 3])).toBe(
      [
        "0: backup view=1 primary=1 executed=0 last=0 stable=0 window=(0,8]",
        "1: primary view=1 primary=1 executed=0 last=0 stable=0 window=(0,8]",
        "2: backup view=1 primary=1 executed=0 last=0 stable=0 window=(0,8]",
        "3: backup view=0 primary=0 executed=0 last=0 stable=0 window=(0,8]",
      ].join("\n"),
    );
    const newView = to3[0]!;

    // Replica 3's disk is slow from here on. It accepts the NEW-VIEW (persisting view 1) and
    // then view 1's PRE-PREPARE for seq 1.
    h.manualPersist.add(3);
    h.inject(1, 3, newView);
    const bob = h.request("bob", 0, null);
    const first = signPrePrepare(
      h.keys.replica(1),
      {
        view: 1,
        seq: 1,
        batch: { time: 1000, requests: [requestDigest(h.keys.replica(1), bob)] },
        replica: 1,
      },
      [bob],
    );
    const sent = h.inject(1, 3, first);
    const prepares1 = h.network.filter((m) => m.from === 3 && m.msg.type === "prepare");
    // The PREPAREs wait for view 1 to be on replica 3's disk.
    expect(h.unflushed[3]!.map((p) => p.ops.map((o) => o.type).join())).toEqual(["hardState"]);
    expect(prepares1).toEqual([]);
    expect
      .soft(sent)
      .toBe(
        [
          "3->0 prepare v=1 s=1 [bob#0] (after #2)",
          "3->1 prepare v=1 s=1 [bob#0] (after #2)",
          "3->2 prepare v=1 s=1 [bob#0] (after #2)",
        ].join("\n"),
      );

    // What that allows: a crash before the write, a restart with view 0 stored, a move to view 1
    // again, the same NEW-VIEW accepted, and a second digest PREPAREd for (view 1, seq 1) when
    // a faulty primary asks. Replica 3 must have signed PREPAREs for one digest only.
    h.restart(3);
    h.manualPersist.delete(3);
    h.tick([3]);
    h.inject(1, 3, newView);
    const other = h.request("alice", 5, null);
    const second = signPrePrepare(
      h.keys.replica(1),
      {
        view: 1,
        seq: 1,
        batch: { time: 1000, requests: [requestDigest(h.keys.replica(1), other)] },
        replica: 1,
      },
      [other],
    );
    h.inject(1, 3, second);
    const prepares2 = h.network.filter((m) => m.from === 3 && m.msg.type === "prepare");
    const signed = [...prepares1, ...prepares2]
      .map((m) => m.msg as Prepare)
      .filter((p) => p.view === 1 && p.seq === 1)
      .map((p) => h.digestName(p.digest));
    // Only the second incarnation's PREPAREs ever left: one digest for (view 1, seq 1).
    expect(signed.length).toBeGreaterThan(0);
    expect(new Set(signed)).toEqual(new Set(["[alice#5]"]));
  });
});
