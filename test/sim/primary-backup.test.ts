import { describe, expect, it } from "vitest";
import { defaultSimOptions, type SimOptions } from "../../src/sim/options.js";
import { runSimulation, Simulation } from "../../src/sim/simulation.js";

const base: SimOptions = {
  ...defaultSimOptions,
  protocol: "primary-backup",
  seed: 1,
  duration: 6,
};

describe("primary-backup in the simulator", () => {
  it("stays safe, live and linearizable across seeds, failing over, transferring state and losing arbiter answers", () => {
    const totals = { crashes: 0, arbiter: 0, lost: 0, installs: 0, snapshots: 0, completed: 0 };
    for (let seed = 1; seed <= 10; seed++) {
      const r = runSimulation({ ...base, seed });
      expect(r.violations, `seed ${seed}`).toEqual([]);
      // Redundancy came back after the faults stopped: a primary with an in-sync backup.
      expect(r.stats.redundantMs, `seed ${seed}`).toBeGreaterThanOrEqual(0);
      totals.crashes += r.stats.crashes;
      totals.arbiter += r.stats.externalRequests;
      totals.lost += r.stats.externalLost;
      totals.installs += r.stats.snapshotInstalls;
      totals.snapshots += r.stats.snapshots;
      totals.completed += r.stats.completed;
    }
    expect(totals.crashes).toBeGreaterThan(10);
    expect(totals.arbiter).toBeGreaterThan(20); // failovers ask the arbiter
    expect(totals.lost).toBeGreaterThan(0); // replicas cut off from the arbiter
    expect(totals.snapshots).toBeGreaterThan(10);
    expect(totals.installs).toBeGreaterThan(0); // new backups brought up by state transfer
    expect(totals.completed).toBeGreaterThan(1000);
  });

  it("acknowledges on receipt in some seeds without the disk fault, and stays safe there", () => {
    const modes = new Set<unknown>();
    for (let seed = 1; seed <= 6; seed++) {
      const sim = new Simulation({
        ...base,
        seed,
        faults: ["network", "partition", "crash", "pause", "clock"],
      });
      const settings = (Reflect.get(sim, "config") as { settings: { ackOn?: unknown } }).settings;
      modes.add(settings.ackOn);
      expect(sim.run().violations, `seed ${seed}`).toEqual([]);
    }
    expect(modes).toEqual(new Set(["receipt", "durable"]));
  });

  it("replays a seed bit for bit", () => {
    const a = runSimulation({ ...base, seed: 7 });
    const b = runSimulation({ ...base, seed: 7 });
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.history).toEqual(b.history);
  });

  it("works with a spare replica, with f = 0, and with the counter and lock services", () => {
    for (const extra of [
      { replicas: 3 },
      { f: 0 },
      { service: "counter" },
      { service: "lock" },
    ] as const) {
      const r = runSimulation({ ...base, seed: 3, ...extra });
      expect(r.violations, JSON.stringify(extra)).toEqual([]);
      expect(r.stats.completed).toBeGreaterThan(50);
    }
  });

  it("fails a seed in which the pair is never redundant again (a primary that serves alone for good)", () => {
    const r = runSimulation({ ...base, protocol: "primary-backup-bug-no-new-backup", seed: 1 });
    expect(r.violations).toEqual([
      "redundancy: no primary with an in-sync backup 30s after faults stopped",
    ]);
    expect(r.stats.redundantMs).toBe(-1);
  });

  it("the generic one-leader-per-epoch check catches two primaries in an epoch", () => {
    let caught = false;
    for (let seed = 1; seed <= 20 && !caught; seed++) {
      const r = runSimulation({
        ...base,
        protocol: "primary-backup-bug-both-live-after-arbiter-timeout",
        seed,
      });
      caught = r.violations.some((v) => /both led in epoch/.test(v));
    }
    expect(caught).toBe(true);
  });
});
