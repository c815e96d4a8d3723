import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { laneName } from "../../src/dashboard/web/replay/lane-name.js";
import { byzantineBehaviours } from "../../src/protocols/pbft/adversary.js";
import { defaultSimOptions, type SimOptions } from "../../src/sim/options.js";
import { runSeeds } from "../../src/sim/run-seeds.js";
import { runSimulation } from "../../src/sim/simulation.js";
import { traceDocument } from "../../src/sim/trace/trace-document.js";
import type { SimTrace } from "../../src/sim/trace/trace-format.js";
import { TraceRecorder } from "../../src/sim/trace/trace-recorder.js";

const quick: SimOptions = {
  ...defaultSimOptions,
  protocol: "raft",
  seed: 1,
  clients: 3,
  duration: 1,
};
// A planted bug (Raft serving reads without a quorum) that seed 38 of these short runs catches
// as a linearizability violation with a counterexample.
const planted: SimOptions = {
  ...quick,
  protocol: "raft-bug-read-index-without-quorum",
  seed: 38,
  duration: 2,
};

function traced(options: SimOptions, maxEvents?: number): { trace: SimTrace; hash: string } {
  const recorder = new TraceRecorder(maxEvents);
  const result = runSimulation(options, false, recorder);
  return { trace: traceDocument(result, recorder.result()), hash: result.traceHash };
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("the structured simulator trace", () => {
  it("does not change the run: the same trace hash, verdict and counts with and without it", () => {
    // Raft; PBFT with a Byzantine replica (seed 1 draws one); primary/backup with its arbiter.
    const runs = [
      quick,
      { ...quick, protocol: "pbft", seed: 1 },
      { ...quick, protocol: "primary-backup", seed: 1 },
    ];
    for (const options of runs) {
      const plain = runSimulation(options);
      const recorded = traced(options);
      expect(recorded.hash, `${options.protocol} seed ${options.seed}`).toBe(plain.traceHash);
      expect(recorded.trace.traceHash).toBe(plain.traceHash);
      expect(recorded.trace.verdict.violations).toEqual(plain.violations);
      expect(recorded.trace.operations.length).toBe(plain.stats.operations);
    }
  });

  it("names the Byzantine behaviour of each faulty replica in its statuses", () => {
    // PBFT seed 1 draws a lying replica (see above).
    const { trace } = traced({ ...quick, protocol: "pbft", seed: 1 });
    const faulty = trace.lanes.filter((l) => l.faulty).map((l) => l.id);
    expect(faulty.length).toBeGreaterThan(0);
    for (const entry of trace.statuses) {
      if (entry.status === undefined) continue;
      if (faulty.includes(entry.replica))
        expect(byzantineBehaviours).toContain(entry.status.byzantine);
      else expect(entry.status.byzantine).toBeUndefined();
    }
    // The replay page's state table names it so.
    const lane = trace.lanes.find((l) => l.id === faulty[0])!;
    const lying = trace.statuses.find((e) => e.replica === lane.id && e.status)!.status;
    expect(laneName(lane, lying)).toBe(`${lane.name} (Byzantine: ${lying?.byzantine})`);
  });

  it("records lanes, messages, a crash, a partition, operations and status changes", () => {
    const plain = runSimulation(quick);
    expect(plain.stats.crashes).toBeGreaterThan(0);
    expect(plain.stats.partitions).toBeGreaterThan(0);
    const { trace } = traced(quick);
    expect(trace.format).toBe("lockstep-sim-trace");
    expect(trace.version).toBe(1);
    expect(trace.seed).toBe(1);
    expect(trace.replay).toContain("--seed 1");
    // Three voters and the spare that membership changes add.
    expect(trace.lanes.filter((l) => l.kind === "replica").map((l) => l.name)).toEqual([
      "r0",
      "r1",
      "r2",
      "r3",
    ]);
    expect(trace.lanes.filter((l) => l.kind === "client")).toHaveLength(3);
    const crashes = trace.faults.filter((f) => f.kind === "crash");
    expect(crashes).toHaveLength(plain.stats.crashes);
    expect(crashes[0]!.replicas).toHaveLength(1);
    const partition = trace.faults.find((f) => f.kind === "partition");
    expect(partition?.cut?.length).toBeGreaterThan(0);
    // A crashed replica is down in its statuses until it restarts.
    const crashed = crashes[0]!;
    const down = trace.statuses.find((s) => s.replica === crashed.replicas[0] && s.t === crashed.t);
    expect(down).toBeDefined();
    expect(down!.status).toBeUndefined();
    expect(trace.statuses.some((s) => s.status?.leads === true)).toBe(true);
    // Every send is one record (a duplicate's second copy adds one).
    const copies = trace.messages.filter((m) => !m.duplicate).length;
    expect(copies).toBe(plain.stats.messagesSent);
    expect(trace.messages.some((m) => m.kind === "append" && m.fate === "delivered")).toBe(true);
    for (const m of trace.messages) expect(m.at).toBeGreaterThanOrEqual(m.sent);
    const done = trace.operations.filter((op) => op.outcome === "ok");
    expect(done.length).toBe(plain.stats.completed);
    expect(trace.verdict.ok).toBe(true);
    expect(trace.limits.capped).toBe(false);
  });

  it("names the violated invariant and the counterexample's operations of a planted-bug seed", () => {
    const { trace } = traced(planted);
    expect(trace.verdict.ok).toBe(false);
    expect(trace.verdict.invariant).toBe("linearizability: history is not linearizable");
    const cx = trace.verdict.counterexample!;
    expect(cx.stuck.length).toBeGreaterThan(0);
    const ids = new Set(trace.operations.map((op) => op.id));
    for (const id of [...cx.stuck, ...cx.linearized]) expect(ids.has(id)).toBe(true);
  });

  it("keeps at most maxEvents records and says so", () => {
    const { trace } = traced(quick, 500);
    const kept =
      trace.messages.length +
      trace.faults.length +
      trace.operations.length +
      trace.statuses.length +
      trace.notes.length;
    expect(kept).toBeLessThanOrEqual(500);
    expect(trace.limits.capped).toBe(true);
    expect(trace.limits.cappedAt).toBeGreaterThan(0);
    expect(Object.values(trace.limits.omitted).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it("is written next to a failing seed's history, ready for the replay viewer", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lockstep-trace-"));
    dirs.push(dir);
    const { seed: _seed, ...base } = planted;
    const report = await runSeeds({ base, seeds: [planted.seed], jobs: 1, outDir: dir });
    const files = report.failures[0]!.files;
    const file = files.find((f) => f.endsWith(".trace.json"))!;
    expect(file).toBe(join(dir, "raft-bug-read-index-without-quorum-seed-38.trace.json"));
    const trace = JSON.parse(readFileSync(file, "utf8")) as SimTrace;
    expect(trace.traceHash).toBe(report.summaries[0]!.traceHash);
    expect(trace.verdict.invariant).toContain("linearizability");
  });
});
