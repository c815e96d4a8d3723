import { describe, expect, it } from "vitest";
import { defaultSimOptions, type SimOptions } from "../../src/sim/options.js";
import { runSimulation } from "../../src/sim/simulation.js";

const base: SimOptions = { ...defaultSimOptions, protocol: "single", seed: 1, duration: 5 };

describe("single replica under faults", () => {
  it("passes every check on a range of seeds with all faults", () => {
    let completed = 0;
    for (let seed = 100; seed < 110; seed++) {
      const result = runSimulation({ ...base, seed });
      expect(result.violations, `seed ${seed}`).toEqual([]);
      expect(result.linearizability?.verdict).toBe("ok");
      completed += result.stats.completed;
    }
    // Some seeds draw a fault storm and get little done; the range as a whole does plenty.
    expect(completed).toBeGreaterThan(2000);
  });

  it("catches the planted bug (ack before sync) and the failure replays with the same trace", () => {
    let caught: number | undefined;
    for (let seed = 1; seed <= 30 && caught === undefined; seed++) {
      const result = runSimulation({ ...base, protocol: "single-ack-before-sync", seed });
      if (!result.ok) caught = seed;
    }
    expect(caught, "the simulator must catch ack-before-sync within 30 seeds").toBeDefined();
    const first = runSimulation({ ...base, protocol: "single-ack-before-sync", seed: caught! });
    const again = runSimulation(
      { ...base, protocol: "single-ack-before-sync", seed: caught! },
      true,
    );
    expect(again.traceHash).toBe(first.traceHash);
    expect(again.violations).toEqual(first.violations);
  });

  it("without machine crashes the planted bug cannot lose writes, so it passes", () => {
    const result = runSimulation({
      ...base,
      protocol: "single-ack-before-sync",
      seed: 1,
      faults: ["network", "partition", "crash", "pause"],
    });
    expect(result.violations).toEqual([]);
  });
});
