import { describe, expect, it } from "vitest";
import { defaultSimOptions, type SimOptions } from "../../src/sim/options.js";
import { runSimulation } from "../../src/sim/simulation.js";

/**
 * PBFT's tentative execution under the simulator's checker (docs/protocols/pbft.md, "Tentative
 * execution"): Twins seed 107 under load makes a correct replica roll back a tentatively
 * executed slot, and agreement, linearizability and liveness still hold; the planted bug that
 * keeps the tentative effects is caught there.
 */
const scenario: SimOptions = {
  ...defaultSimOptions,
  protocol: "pbft",
  seed: 107,
  clients: 3,
  duration: 1,
  faults: [],
  twins: true,
};

describe("simulator: pbft tentative execution", () => {
  it("a correct replica rolls back a tentative execution and every check passes", () => {
    const r = runSimulation(scenario);
    expect(r.violations).toEqual([]);
    expect(r.stats.tentativeRollbacks).toBeGreaterThanOrEqual(1);
    expect(r.stats.completed).toBe(r.stats.operations);
  });

  it("the planted bug tentative-without-rollback is caught by the same scenario", () => {
    const r = runSimulation({ ...scenario, protocol: "pbft-bug-tentative-without-rollback" });
    expect(r.stats.tentativeRollbacks).toBe(0);
    expect(r.violations.join("\n")).toMatch(/executed a different entry at index \d+/);
  });
});
