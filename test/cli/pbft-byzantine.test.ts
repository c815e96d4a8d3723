import { afterEach, describe, expect, it } from "vitest";
import { runLoad } from "../runtime/workload.js";
import { PbftProcesses, sleep, verifyLoad, waitFor } from "./pbft-processes.js";
import { runCliAsync } from "./run-cli.js";

// One replica of four started with `lockstep replica --byzantine B`: it lies with its own real
// keys while clients write under load. Every client history must be linearizable, every
// acknowledged write must read back, and the service must go on. Needs dist/ (npm run build).

let cluster: PbftProcesses | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

interface Case {
  readonly behaviour: string;
  readonly liar: number;
  /** SIGKILL this replica during the load (so that a view change happens with the liar in it). */
  readonly kill?: number;
  /**
   * "all": every correct replica must leave view 0 (the primary died); "refused": at least one
   * correct replica refused a proposal and asked for a view change (an equivocating primary that
   * still convinces 2f+1 replicas keeps view 0, without the replica it lied to).
   */
  readonly viewChange: "all" | "refused" | "none";
}

const cases: Case[] = [
  { behaviour: "equivocate", liar: 0, viewChange: "refused" },
  { behaviour: "corrupt-replies", liar: 2, viewChange: "none" },
  { behaviour: "lying-view-change", liar: 1, kill: 0, viewChange: "all" },
];

describe("a PBFT cluster with one Byzantine replica process", () => {
  it.each(cases)(
    "$behaviour as r$liar: linearizable, no acknowledged write lost, service continues",
    async ({ behaviour, liar, kill, viewChange }) => {
      // Pipelined (maxInFlight 8): the equivocating primary's altered times then run backwards
      // across slots in flight at the replica it lies to, which refuses the proposal and starts
      // a view change. With one batch at a time (the default) it adopts the committed batch
      // instead and no view change is needed.
      const c = await PbftProcesses.create({
        checkpointInterval: 8,
        windowSize: 16,
        maxInFlight: 8,
      });
      cluster = c;
      await c.startAll((id) => (id === liar ? ["--byzantine", behaviour] : []));
      expect(c.log(liar)).toContain(`WARNING: r${liar} runs as a BYZANTINE replica (${behaviour})`);
      // `status` asks every replica with a short timeout; on a loaded machine one may not answer
      // the first time (it then shows as unreachable), so ask until the liar's row shows.
      const row = new RegExp(`r${liar} +\\w+ BYZANTINE:${behaviour}`);
      const shown = await waitFor(
        `status to show r${liar} as BYZANTINE`,
        async () => {
          const out = await runCliAsync(["status", "--config", `${c.dir}/cluster.json`]);
          return row.test(out.stdout) ? out : undefined;
        },
        10_000,
      );
      expect(shown.stdout).toMatch(row);
      expect((await c.status(liar))?.details).toMatchObject({ byzantine: behaviour });

      const honest = [0, 1, 2, 3].filter((id) => id !== liar && id !== kill);
      const startedAt = performance.now();
      const load = runLoad({
        config: c.config,
        keys: (name) => c.clientKeys(name),
        clients: 4,
        durationMs: 8_000,
        timeoutMs: 5_000,
        sharedKeys: ["a", "b", "c"],
      });
      let killedAt: number | undefined;
      if (kill !== undefined) {
        await sleep(2_000);
        killedAt = performance.now();
        await c.kill(kill);
      }
      const result = await load;
      const { verdict, explanation, missing } = await verifyLoad(c, result);
      const statuses = await Promise.all(honest.map((id) => c.status(id)));
      const views = statuses.map((s) => s?.term ?? -1);
      const refused = statuses.map(
        (s) =>
          (s?.details as { viewChanges?: { badProposal?: number } } | null)?.viewChanges
            ?.badProposal ?? 0,
      );
      const lies = ((await c.status(liar))?.details as { lies?: number } | null)?.lies ?? 0;
      console.log(
        JSON.stringify({
          behaviour,
          completed: result.completed,
          indeterminate: result.indeterminate,
          failed: result.failed,
          errors: Object.fromEntries(result.errors),
          uniqueWrites: result.acknowledgedUnique.size,
          verdict,
          views,
          refused,
          lies,
          stats: result.protocolStats,
          loadMs: Math.round(performance.now() - startedAt),
        }),
      );
      if (verdict !== "ok") console.log(explanation);
      expect(verdict).toBe("ok");
      expect(missing).toEqual([]);
      expect(result.acknowledgedUnique.size).toBeGreaterThan(0);
      // It did lie (the wrapper counts outputs the correct core would not have produced).
      expect(lies).toBeGreaterThan(0);
      // The service continued: writes completed in the last part of the load.
      const lateFrom = startedAt + 6_000;
      expect(result.okTimes.filter((t) => t > lateFrom).length).toBeGreaterThan(0);
      if (killedAt !== undefined) {
        expect(result.okTimes.filter((t) => t > killedAt + 500).length).toBeGreaterThan(0);
      }
      if (viewChange === "all") for (const view of views) expect(view).toBeGreaterThan(0);
      if (viewChange === "refused") expect(Math.max(...refused)).toBeGreaterThan(0);
      if (behaviour === "corrupt-replies") {
        // The liar's wrong results reached the clients and lost every vote: none of them is in
        // the (linearizable) history, and the clients counted them.
        expect(result.protocolStats[`outvoted-r${liar}`] ?? 0).toBeGreaterThan(0);
        const forged = result.history.filter((op) =>
          JSON.stringify(op.output ?? "").includes("forged-"),
        );
        expect(forged).toEqual([]);
      }
      // Every honest replica executes everything, the one an equivocating primary lied to
      // included: it takes the pre-prepares 2f+1 COMMITs certify in place of the lies
      // (docs/protocols/pbft.md, "Catching up without a checkpoint").
      const applied = await Promise.all(
        honest.map(async (id) => (await c.status(id))!.appliedIndex),
      );
      await c.converged(honest, Math.max(...applied));
    },
    60_000,
  );
});
