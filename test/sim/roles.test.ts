import { describe, expect, it } from "vitest";
import { defaultSimOptions, replayCommand, type SimOptions } from "../../src/sim/options.js";
import { runSimulation } from "../../src/sim/simulation.js";

const base: SimOptions = {
  ...defaultSimOptions,
  duration: 6,
  protocol: "raft",
  seed: 1,
  roles: true,
};

describe("simulator: client roles changing under load (--roles)", () => {
  for (const protocol of ["raft", "single"]) {
    it(`${protocol}: replicas agree, forbidden operations never take effect, runs replay`, () => {
      let roleChanges = 0;
      let forbidden = 0;
      // Seeds 128 and 382 (raft) caught commands refused outright at ordering while another
      // copy of them ran: 128 by a leader whose applied state was behind its log, 382 by a
      // deposed leader that did not know it yet. Commands are now ordered as refusals.
      for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 128, 382]) {
        const r = runSimulation({ ...base, protocol, seed });
        // Agreement (same entries, results and access state at every index), snapshots, and
        // linearizability of the history without the refused operations.
        expect(r.violations, `${protocol} seed ${seed}`).toEqual([]);
        expect(r.linearizability?.verdict, `${protocol} seed ${seed}`).toBe("ok");
        roleChanges += r.stats.roleChanges;
        forbidden += r.stats.forbidden;
      }
      expect(roleChanges).toBeGreaterThan(10);
      expect(forbidden).toBeGreaterThan(10);
      const a = runSimulation({ ...base, protocol, seed: 3 });
      const b = runSimulation({ ...base, protocol, seed: 3 });
      expect(a.traceHash).toBe(b.traceHash);
      expect(replayCommand(a.options)).toMatch(/--roles$/);
    });
  }

  it("pbft: access changes are ordered requests, applied alike at every correct replica", () => {
    let roleChanges = 0;
    let forbidden = 0;
    for (const seed of [1, 2, 3, 4]) {
      const r = runSimulation({ ...base, protocol: "pbft", seed, duration: 4 });
      expect(r.violations, `pbft seed ${seed}`).toEqual([]);
      expect(r.linearizability?.verdict, `pbft seed ${seed}`).toBe("ok");
      roleChanges += r.stats.roleChanges;
      forbidden += r.stats.forbidden;
    }
    // Before access changes could be ordered in PBFT, every one was answered `invalid`.
    expect(roleChanges).toBeGreaterThan(6);
    expect(forbidden).toBeGreaterThan(6);
  });
});
