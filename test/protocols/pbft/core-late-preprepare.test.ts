import { describe, expect, it } from "vitest";
import { type InFlight, PbftHarness } from "./core-harness.js";

/**
 * When a backup already holds 2f matching PREPAREs (and maybe 2f+1 COMMITs) for a seq and the
 * PRE-PREPARE arrives last (a retransmission after a loss, or simply slower), accepting it
 * completes the slot: the backup persists its certificate and sends its COMMIT. (Found by this
 * test: the core once ignored that transition, and one replica withholding its COMMITs then
 * stopped the slot from committing anywhere until a view change.)
 */
describe("a PRE-PREPARE that arrives after 2f PREPAREs", () => {
  it("still makes the backup persist its certificate and send COMMIT", () => {
    const h = new PbftHarness({ settings: { checkpointInterval: 8, windowSize: 16 } });
    h.tick();
    h.client(0, h.request("alice", 0, null));
    // The PRE-PREPARE to replica 3 is slow: the PREPAREs of 1 and 2 reach it first.
    const late = h.network.filter((m) => m.to === 3);
    h.lose((m) => m.to === 3);
    h.deliver({ quiet: true, drop: (m) => m.to === 3 && m.msg.type === "commit" });
    h.network.push(...late);
    const out = h.deliver().split("\n");
    expect(out).toContain("  3: persist#2 put cert/1 v=0 [alice#0] bodies=1");
    expect(out.filter((l) => l.startsWith("  3->") && l.includes(" commit "))).toEqual([
      "  3->0 commit v=0 s=1 [alice#0]",
      "  3->1 commit v=0 s=1 [alice#0]",
      "  3->2 commit v=0 s=1 [alice#0]",
    ]);
  });

  it("so that one replica withholding its COMMITs does not stop the slot from committing", () => {
    const h = new PbftHarness({ settings: { checkpointInterval: 8, windowSize: 16 } });
    h.tick();
    h.client(0, h.request("alice", 0, null));
    // Replica 1 is Byzantine: it prepares but never commits. Replica 3 gets the PRE-PREPARE last.
    const late = h.network.filter((m) => m.to === 3);
    h.lose((m) => m.to === 3);
    const noCommitFrom1 = (m: InFlight) => m.from === 1 && m.msg.type === "commit";
    h.deliver({ quiet: true, drop: noCommitFrom1 });
    h.network.push(...late);
    h.deliver({ quiet: true, drop: noCommitFrom1 });
    // Correct replicas 0, 2 and 3 are 2f+1: seq 1 must commit and execute at each of them.
    expect([0, 2, 3].map((id) => h.services[id]!.appliedIndex)).toEqual([1, 1, 1]);
  });
});
