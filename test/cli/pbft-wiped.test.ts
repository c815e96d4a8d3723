import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { runLoad } from "../runtime/workload.js";
import { PbftProcesses, sleep, verifyLoad, waitFor } from "./pbft-processes.js";

// A PBFT replica whose data directory is deleted rejoins by state transfer: it starts from an
// empty directory, learns of a stable checkpoint above it, fetches the snapshot chunk by chunk
// (each checked against the digest 2f+1 signed CHECKPOINTs vouch for) and executes on from
// there. Checkpoints every 4 sequence numbers so that a short load passes several. Needs dist/.

let cluster: PbftProcesses | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe("a PBFT replica whose data directory was wiped", () => {
  it("rejoins by state transfer from a certified stable checkpoint, under load, losing nothing", async () => {
    const c = await PbftProcesses.create({ checkpointInterval: 4, windowSize: 8 });
    cluster = c;
    await c.startAll();
    const load = runLoad({
      config: c.config,
      keys: (name) => c.clientKeys(name),
      clients: 4,
      durationMs: 10_000,
      timeoutMs: 5_000,
      sharedKeys: ["a", "b", "c"],
    });
    await sleep(1_000);
    await c.kill(3);
    rmSync(c.dataDir(3), { recursive: true, force: true });
    // The others move on well past a window while r3 is gone.
    const ahead = await waitFor(
      "the others to make a stable checkpoint above a window",
      async () => {
        const s = await c.status(1);
        const stable = (s?.details as { stableCheckpoint?: number } | null)?.stableCheckpoint ?? 0;
        return stable >= 12 ? stable : undefined;
      },
      20_000,
    );
    c.start(3);
    const rejoined = await waitFor(
      "r3 to fetch the state and execute past the checkpoint",
      async () => {
        const s = await c.status(3);
        return s && s.snapshots.installed > 0 && s.appliedIndex >= ahead ? s : undefined;
      },
      20_000,
    );
    const result = await load;
    const primary = (await c.status(1))?.leader ?? 0;
    await c.converged([0, 1, 2, 3], (await c.status(primary))!.appliedIndex);
    const { verdict, explanation, missing } = await verifyLoad(c, result);
    console.log(
      JSON.stringify({
        completed: result.completed,
        indeterminate: result.indeterminate,
        uniqueWrites: result.acknowledgedUnique.size,
        verdict,
        stableBeforeRestart: ahead,
        installedAt: rejoined.snapshots.lastInstalledIndex,
        appliedAtRejoin: rejoined.appliedIndex,
      }),
    );
    if (verdict !== "ok") console.log(explanation);
    expect(rejoined.recovery.fresh).toBe(true);
    expect(rejoined.snapshots.lastInstalledIndex).toBeGreaterThanOrEqual(4);
    expect(verdict).toBe("ok");
    expect(missing).toEqual([]);
  }, 60_000);
});
