import { describe, expect, it } from "vitest";
import { defaultSimOptions, type SimOptions } from "../../src/sim/options.js";
import { runSimulation } from "../../src/sim/simulation.js";

const base: SimOptions = { ...defaultSimOptions, protocol: "raft", seed: 1, duration: 6 };

describe("raft in the simulator", () => {
  it("stays safe, live and linearizable across seeds, and the runs exercise what they claim", () => {
    const totals = {
      crashes: 0,
      partitions: 0,
      installs: 0,
      snapshots: 0,
      membership: 0,
      completed: 0,
      torn: 0,
    };
    for (let seed = 1; seed <= 12; seed++) {
      const r = runSimulation({ ...base, seed });
      expect(r.violations, `seed ${seed}`).toEqual([]);
      totals.crashes += r.stats.crashes;
      totals.partitions += r.stats.partitions;
      totals.installs += r.stats.snapshotInstalls;
      totals.snapshots += r.stats.snapshots;
      totals.membership += r.stats.membershipChanges;
      totals.completed += r.stats.completed;
      totals.torn += r.stats.tornTails;
    }
    expect(totals.crashes).toBeGreaterThan(10);
    expect(totals.partitions).toBeGreaterThan(5);
    expect(totals.snapshots).toBeGreaterThan(10);
    expect(totals.installs).toBeGreaterThan(0);
    expect(totals.membership).toBeGreaterThan(0);
    expect(totals.completed).toBeGreaterThan(1000);
  });

  it("replays a seed bit for bit", () => {
    const a = runSimulation({ ...base, seed: 5 });
    const b = runSimulation({ ...base, seed: 5 });
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.history).toEqual(b.history);
  });

  it("works with 5 replicas and the counter and lock services", () => {
    for (const [service, f] of [
      ["counter", 2],
      ["lock", 1],
      ["kv", 2],
    ] as const) {
      const r = runSimulation({ ...base, seed: 9, service, f });
      expect(r.violations, service).toEqual([]);
      expect(r.stats.completed).toBeGreaterThan(50);
    }
  });
});
