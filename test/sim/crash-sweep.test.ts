import { describe, expect, it } from "vitest";
import { CrashSweep, crashSweepPoint } from "../../src/sim/crash-sweep.js";
import { defaultSimOptions, replayCommand, type SimOptions } from "../../src/sim/options.js";
import { runSimulation } from "../../src/sim/simulation.js";

const sweep: SimOptions = {
  ...defaultSimOptions,
  protocol: "primary-backup",
  seed: 1,
  faults: [],
  duration: 1,
  crashSweep: true,
};

describe("the systematic crash sweep (--crash-sweep)", () => {
  it("enumerates victim, before/after, process/machine and the boundary from the seed", () => {
    const points = Array.from({ length: 16 }, (_, i) => crashSweepPoint(i + 1, 2));
    expect(
      points.slice(0, 8).map((p) => `${p.victim}${p.when[0]}${p.machine ? "m" : "p"}`),
    ).toEqual(["0bp", "1bp", "0ap", "1ap", "0bm", "1bm", "0am", "1am"]);
    expect(points.map((p) => p.boundary)).toEqual([...Array(8).fill(1), ...Array(8).fill(2)]);
    // Every (victim, when, kind, boundary) once among the first 1000 seeds.
    const all = new Set(
      Array.from({ length: 1000 }, (_, i) => JSON.stringify(crashSweepPoint(i + 1, 2))),
    );
    expect(all.size).toBe(1000);
    expect(() => crashSweepPoint(0, 2)).toThrow(RangeError);
  });

  it("fires once, at the chosen boundary of the victim only", () => {
    const s = new CrashSweep({ victim: 1, when: "after", machine: false, boundary: 2 });
    const fired: string[] = [];
    for (const [id, n] of [
      [0, 1],
      [1, 1],
      [0, 2],
      [1, 2],
      [1, 3],
    ] as const) {
      for (const when of ["before", "after"] as const)
        if (s.due(id, when)) fired.push(`r${id}#${n} ${when}`);
    }
    expect(fired).toEqual(["r1#2 after"]);
    expect(s.crashed).toBe(true);
  });

  it("crashes exactly once per seed, stays safe, replays bit for bit, and says so in the replay command", () => {
    for (let seed = 1; seed <= 16; seed++) {
      const r = runSimulation({ ...sweep, seed });
      expect(r.violations, `seed ${seed}`).toEqual([]);
      expect(r.stats.sweepCrashes, `seed ${seed}`).toBe(1);
      expect(r.stats.crashes, `seed ${seed}`).toBe(1);
    }
    const a = runSimulation({ ...sweep, seed: 7 });
    expect(runSimulation({ ...sweep, seed: 7 }).traceHash).toBe(a.traceHash);
    expect(replayCommand(a.options)).toMatch(/--crash-sweep/);
  });

  it("finds a planted bug with one well-placed crash (the new primary drops the log it received)", () => {
    let caught: number | undefined;
    for (let seed = 1; seed <= 60 && caught === undefined; seed++) {
      const r = runSimulation({
        ...sweep,
        protocol: "primary-backup-bug-go-live-before-consuming-log",
        seed,
      });
      if (r.violations.length > 0) caught = seed;
    }
    expect(caught).toBeDefined();
  });
});
