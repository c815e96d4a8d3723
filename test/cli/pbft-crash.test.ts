import { afterEach, describe, expect, it } from "vitest";
import { runLoad } from "../runtime/workload.js";
import { PbftProcesses, sleep, verifyLoad, waitFor } from "./pbft-processes.js";

// Crashes under load in a 4-replica PBFT cluster of real processes: SIGKILL of the primary (a
// view change), its restart from disk, then SIGKILL of a backup and its restart from disk.
// Every client history must be linearizable and every acknowledged write must read back.
// Needs dist/ (npm run build).

let cluster: PbftProcesses | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe("a PBFT cluster of real processes under load", () => {
  it("survives SIGKILL of the primary and of a backup, each restarted from its disk: linearizable, nothing lost", async () => {
    const c = await PbftProcesses.create({ checkpointInterval: 8, windowSize: 16 });
    cluster = c;
    await c.startAll();
    const startedAt = performance.now();
    const load = runLoad({
      config: c.config,
      keys: (name) => c.clientKeys(name),
      clients: 4,
      durationMs: 18_000,
      timeoutMs: 5_000,
      sharedKeys: ["a", "b", "c"],
    });

    // (a) The primary of view 0 dies: the backups change view and the service goes on.
    await sleep(1_500);
    const primaryKilledAt = performance.now();
    await c.kill(0);
    const newView = await waitFor(
      "a view change away from the killed primary",
      async () => {
        const s = await c.status(2);
        return s && s.term > 0 && s.leader !== 0 && s.leader !== null ? s : undefined;
      },
      15_000,
    );
    c.start(0);
    await c.converged([0], (await c.status(newView.leader!))?.appliedIndex ?? 0);

    // (b) A backup dies and restarts from its data directory.
    const backup = [1, 2, 3].find((id) => id !== newView.leader)!;
    const backupKilledAt = performance.now();
    await c.kill(backup);
    await sleep(700);
    c.start(backup);
    const result = await load;
    const loadEndedAt = performance.now();

    // Every replica executes everything, both restarted ones included, with no further load: no
    // new checkpoint is coming, so retransmission and the stable checkpoint's proof must carry
    // them (docs/protocols/pbft.md, "Catching up without a checkpoint").
    const primaryNow = (await c.status((backup + 1) % 4))?.leader ?? newView.leader!;
    const target = (await c.status(primaryNow))!.appliedIndex;
    await c.converged([0, 1, 2, 3], target, 30_000);
    const { verdict, explanation, missing } = await verifyLoad(c, result);
    console.log(
      JSON.stringify({
        completed: result.completed,
        indeterminate: result.indeterminate,
        failed: result.failed,
        errors: Object.fromEntries(result.errors),
        uniqueWrites: result.acknowledgedUnique.size,
        verdict,
        view: newView.term,
        backup,
        backupKilledAfterMs: Math.round(backupKilledAt - startedAt),
        loadMs: Math.round(loadEndedAt - startedAt),
      }),
    );
    if (verdict !== "ok") console.log(explanation);
    expect(verdict).toBe("ok");
    expect(missing).toEqual([]);
    expect(result.acknowledgedUnique.size).toBeGreaterThan(0);
    expect(result.history.length).toBe(result.completed + result.indeterminate);
    // The service continued after each kill.
    expect(result.okTimes.filter((t) => t > primaryKilledAt + 200).length).toBeGreaterThan(0);
    expect(backupKilledAt).toBeLessThan(loadEndedAt);
    expect(result.okTimes.filter((t) => t > backupKilledAt).length).toBeGreaterThan(0);
    // Both restarted replicas recovered from their disk (not from an empty directory).
    for (const id of [0, backup]) expect((await c.status(id))?.recovery.fresh).toBe(false);
  }, 60_000);
});
