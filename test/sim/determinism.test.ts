import { describe, expect, it } from "vitest";
import { defaultSimOptions, type SimOptions } from "../../src/sim/options.js";
import { runSimulation } from "../../src/sim/simulation.js";

const base: SimOptions = { ...defaultSimOptions, protocol: "single", seed: 1, duration: 3 };

describe("simulator determinism", () => {
  it("replays a seed bit for bit: same trace hash, same stats, same history", () => {
    const a = runSimulation({ ...base, seed: 42 });
    const b = runSimulation({ ...base, seed: 42 });
    expect(a.traceHash).toBe(b.traceHash);
    expect({ ...a.stats, elapsedMs: 0 }).toEqual({ ...b.stats, elapsedMs: 0 });
    expect(a.history).toEqual(b.history);
  });

  it("different seeds give different runs", () => {
    const hashes = new Set([1, 2, 3, 4].map((seed) => runSimulation({ ...base, seed }).traceHash));
    expect(hashes.size).toBe(4);
  });

  it("recording the trace does not change the run", () => {
    const plain = runSimulation({ ...base, seed: 7 });
    const traced = runSimulation({ ...base, seed: 7 }, true);
    expect(traced.traceHash).toBe(plain.traceHash);
    expect(traced.trace.length).toBeGreaterThan(0);
  });

  it("injects the faults it is asked for, and none when asked for none", () => {
    const faulty = runSimulation({ ...base, seed: 3, duration: 8 });
    expect(faulty.stats.crashes + faulty.stats.partitions + faulty.stats.pauses).toBeGreaterThan(0);
    const calm = runSimulation({ ...base, seed: 3, duration: 8, faults: [] });
    expect(calm.stats.crashes).toBe(0);
    expect(calm.stats.partitions).toBe(0);
    expect(calm.stats.messagesDropped).toBe(0);
    expect(calm.ok).toBe(true);
  });
});
