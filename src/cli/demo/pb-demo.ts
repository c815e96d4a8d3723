import { startDemoDashboard } from "./demo-dashboard.js";
import { DemoFailure } from "./demo-failure.js";
import {
  handleDemoSignals,
  pollUntil,
  reportUserActions,
  requireEveryWriteRead,
} from "./demo-session.js";
import { PbDemoCluster, pairSize } from "./pb-demo-cluster.js";
import { startProgress } from "./progress-ticker.js";
import { readBack } from "./read-back.js";
import type { RealDemoOptions } from "./real-demo.js";
import { Screen, seconds } from "./screen.js";
import { formatSummary } from "./summary.js";
import { DemoWorkload } from "./workload.js";

const opTimeoutMs = 2_000;
const patienceMs = 15_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Polls `condition` every 50 ms until it yields a value; a DemoFailure after patienceMs. */
const within = <T>(condition: () => T | undefined | Promise<T | undefined>, failure: string) =>
  pollUntil(condition, failure, patienceMs);

/**
 * `lockstep demo --protocol primary-backup`: a primary/backup key-value pair and its Raft arbiter
 * group on 127.0.0.1 under a client workload. SIGKILLs the primary, shows the arbiter's decision
 * and the new primary serving, restarts the old primary, which comes back as the new backup and
 * catches up, reads every acknowledged write back. Exit 0 when all of that happened, else 1.
 */
export async function pbDemo(options: RealDemoOptions): Promise<number> {
  const began = performance.now();
  const screen = new Screen(() => performance.now() - began);
  const demo = await PbDemoCluster.create(options.dir, screen);
  let workload: DemoWorkload | undefined;
  let stopProgress = (): void => {};
  const removeSignalHandlers = handleDemoSignals(screen, demo, () => stopProgress());

  screen.print(
    "lockstep demo: a primary/backup key-value pair and its arbiter (a 3-replica Raft group) on 127.0.0.1",
  );
  screen.print(`data folder: ${demo.dir} (wiped and rewritten at the start of each run)`);
  const dashboard = await startDemoDashboard(
    screen,
    options.dashboard !== false,
    demo.faults,
    demo.arbiterFaults,
  );
  try {
    const phaseMs = options.seconds * 1000;
    screen.say(
      `starting the arbiter group (3 replicas, ports ${demo.arbiterConfig.replicas.map((r) => r.port).join(", ")}) ` +
        `and the pair r0, r1 (ports ${demo.config.replicas.map((r) => r.port).join(", ")})`,
    );
    const spawnedAt = screen.elapsed();
    demo.startAll();
    const first = await demo.primary(`no primary within ${patienceMs / 1000} s`);
    const backupId = first.replica === 0 ? 1 : 0;
    await within(
      () => demo.backupAt(backupId, first.commitIndex),
      `r${backupId} did not become the backup within ${patienceMs / 1000} s`,
    );
    screen.say(
      `pair up: r${first.replica} is primary in epoch ${first.term} (won at the arbiter ` +
        `${seconds(screen.elapsed() - spawnedAt)} s after the start), r${backupId} its backup`,
    );

    demo.enter("steady load");
    workload = await DemoWorkload.start({
      config: demo.config,
      keys: demo.keys,
      clients: options.clients,
      timeoutMs: opTimeoutMs,
      elapsed: screen.elapsed,
    });
    const load = workload;
    const loadStart = screen.elapsed();
    screen.say(
      `workload: ${options.clients} clients, each with one put or linearizable get outstanding; ` +
        "a reply leaves the primary only once the backup has the entry (the output rule)",
    );
    stopProgress = startProgress(screen, () => ({
      ops: load.ok,
      errors: load.errorCount,
      leader: demo.watch.leader(),
      up: demo.up,
      replicas: pairSize,
    }));
    await sleep(phaseMs);

    // Kill the primary: the backup must win the next epoch at the arbiter and go live.
    demo.enter("kill the primary");
    const victim = (await demo.primary("the primary disappeared before the kill")).replica;
    screen.say(`SIGKILL r${victim} (the primary)`);
    const killedAt = screen.elapsed();
    await demo.kill(victim);
    const next = await demo.primary(
      `no new primary within ${patienceMs / 1000} s of killing r${victim}`,
      first.term,
      victim,
    );
    const liveAt = demo.watch.sighting(next.term)?.at ?? screen.elapsed();
    const winner = await demo.arbiterWinner(next.term);
    if (winner !== next.replica)
      throw new DemoFailure(
        `the arbiter recorded ${winner === null ? "no winner" : `r${winner}`} for epoch ${next.term}, but r${next.replica} serves`,
      );
    const arbiterLeader = await demo.arbiterLeader();
    screen.say(
      `arbiter decided: epoch ${next.term} → r${winner} (test-and-set, committed by the Raft group` +
        `${arbiterLeader ? ` led by its r${arbiterLeader.replica}` : ""})`,
    );
    const firstWrite = await within(
      () => load.firstPutAfter(killedAt),
      `no write was acknowledged within ${patienceMs / 1000} s of the go-live`,
    );
    screen.say(
      `r${next.replica} went live as primary of epoch ${next.term}, ${seconds(liveAt - killedAt)} s after the kill; ` +
        `first write acknowledged ${seconds(firstWrite - killedAt)} s after the kill`,
    );
    await sleep(killedAt + phaseMs - screen.elapsed());

    // Restart the old primary: it learns the newer epoch and comes back as the new backup.
    demo.enter("restart the old primary");
    const target = (await demo.primary("no primary before the restart")).commitIndex;
    screen.say(`restarting r${victim}`);
    const restartedAt = screen.elapsed();
    demo.start(victim);
    const caught = await within(
      () => demo.backupAt(victim, target),
      `r${victim} did not come back as an up-to-date backup within ${patienceMs / 1000} s`,
    );
    screen.say(
      `r${victim} is the new backup of r${next.replica} (epoch ${caught.term}), up to date with index ${target} ` +
        `${seconds(screen.elapsed() - restartedAt)} s after its restart${caught.snapshots.installed > 0 ? " (by snapshot)" : ""}`,
    );
    await sleep(phaseMs);

    demo.enter("read back");
    await load.stop();
    const workloadMs = screen.elapsed() - loadStart;
    stopProgress();
    screen.endProgress();
    screen.say(
      `workload stopped; reading back all ${load.acknowledged.size} acknowledged writes to unique keys`,
    );
    const check = await readBack(demo.config, demo.keys, load.acknowledged, opTimeoutMs);
    screen.print("");
    screen.print(
      formatSummary({
        ok: load.ok,
        workloadMs,
        errors: load.errors,
        latenciesMs: load.latenciesMs.copy(),
        leaderTerms: demo.watch.leaderTerms(),
        noLeaderMs: liveAt - killedAt,
        longestGap: load.longestGap(),
        readBack: check,
      }),
    );
    screen.print("");
    requireEveryWriteRead(check);
    return 0;
  } catch (error) {
    if (!(error instanceof DemoFailure)) throw error;
    stopProgress();
    screen.endProgress();
    screen.say(`FAILED: ${error.message}`);
    return 1;
  } finally {
    await dashboard?.close();
    reportUserActions(screen, demo.faults, demo.arbiterFaults);
    stopProgress();
    screen.endProgress();
    await workload?.abort();
    await demo.stop();
    removeSignalHandlers();
    screen.print(
      `data folder kept: ${demo.dir} (replica-<i>.log and data-<i>/ of the pair; arbiter/ the same for the arbiter); the next run wipes it`,
    );
  }
}
