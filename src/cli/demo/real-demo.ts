import type { ReplicaStatus } from "../../runtime/status.js";
import { DemoCluster, DemoFailure, replicaCount } from "./demo-cluster.js";
import { startDemoDashboard } from "./demo-dashboard.js";
import {
  handleDemoSignals,
  pollUntil,
  reportUserActions,
  requireEveryWriteRead,
} from "./demo-session.js";
import { startProgress } from "./progress-ticker.js";
import { readBack } from "./read-back.js";
import { Screen, seconds } from "./screen.js";
import { formatSummary } from "./summary.js";
import { DemoWorkload } from "./workload.js";

export interface RealDemoOptions {
  readonly dir: string;
  /** Length of each phase (steady load, after the kill, after the catch-up), seconds. */
  readonly seconds: number;
  readonly clients: number;
  /** Serve the live dashboard while the demo runs (default true). */
  readonly dashboard?: boolean;
}

/** Per-operation time limit: long enough to ride out an election, short enough to see stalls. */
const opTimeoutMs = 2_000;
/** How long the demo waits for an election or a catch-up before it calls the run a failure. */
const patienceMs = 15_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * `lockstep demo`: a real 3-replica Raft key-value cluster on 127.0.0.1 under a client workload.
 * SIGKILLs the leader, shows the election and that writes continue, restarts the killed replica
 * and times its catch-up, reads every acknowledged write back, and prints a summary. Exit 0 when
 * all of that happened, 1 when it did not (the line says what), 130 on Ctrl-C. Every replica
 * process is stopped on every path.
 */
export async function realDemo(options: RealDemoOptions): Promise<number> {
  const began = performance.now();
  const screen = new Screen(() => performance.now() - began);
  const demo = await DemoCluster.create(options.dir, screen);
  let workload: DemoWorkload | undefined;
  let stopProgress = (): void => {};
  const removeSignalHandlers = handleDemoSignals(screen, demo, () => stopProgress());

  screen.print(`lockstep demo: a ${replicaCount}-replica Raft key-value cluster on 127.0.0.1`);
  screen.print(`data folder: ${demo.dir} (wiped and rewritten at the start of each run)`);
  const dashboard = await startDemoDashboard(screen, options.dashboard !== false, demo.faults);
  try {
    const phaseMs = options.seconds * 1000;
    // 1. Start the replicas and wait for a leader.
    screen.say(
      `starting r0..r${replicaCount - 1} as child processes (ports ${demo.ports.join(", ")})`,
    );
    const spawnedAt = screen.elapsed();
    demo.startAll();
    const first = await demo.leader(`no leader elected within ${patienceMs / 1000} s`);
    const firstAt = demo.watch.sighting(first.term)?.at ?? screen.elapsed();
    // A leader needs only a majority; "up" means every replica answers.
    const statuses = await within(
      async () => {
        const all = await demo.cluster.statuses(500);
        return all.every((s) => s !== undefined) ? all : undefined;
      },
      `not every replica answered within ${patienceMs / 1000} s of the election`,
    );
    const fresh = statuses.every((s) => s?.recovery.fresh === true);
    screen.say(
      `cluster up: r${first.replica} leads term ${first.term} (elected in ${seconds(firstAt - spawnedAt)} s)` +
        (fresh ? "; every replica started from an empty data folder" : ""),
    );

    // 2. Steady load.
    demo.faults.enter("steady load");
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
      `workload: ${options.clients} clients, each with one put or linearizable get outstanding ` +
        `(${opTimeoutMs / 1000} s time limit per operation)`,
    );
    stopProgress = startProgress(screen, () => ({
      ops: load.ok,
      errors: load.errorCount,
      leader: demo.watch.leader(),
      up: demo.up,
      replicas: replicaCount,
    }));
    await sleep(phaseMs);

    // 3. Kill the leader; wait for the next one and for writes to be acknowledged again.
    demo.faults.enter("kill the leader");
    const victim = (await demo.leader("the leader disappeared before the kill")).replica;
    screen.say(`SIGKILL r${victim} (the leader)`);
    const killedAt = screen.elapsed();
    await demo.kill(victim);
    const next = await demo.leader(
      `no new leader within ${patienceMs / 1000} s of killing r${victim}`,
      victim,
    );
    const electedAt = demo.watch.sighting(next.term)?.at ?? screen.elapsed();
    const firstWrite = await within(
      () => load.firstPutAfter(killedAt),
      `no write was acknowledged within ${patienceMs / 1000} s of the new leader's election`,
    );
    screen.say(
      `r${next.replica} elected leader for term ${next.term}, ${seconds(electedAt - killedAt)} s after the kill; ` +
        `service continued: first write acknowledged ${seconds(firstWrite - killedAt)} s after the kill`,
    );
    await sleep(killedAt + phaseMs - screen.elapsed());

    // 4. Restart the killed replica and time its catch-up to the leader's commit index of now.
    demo.faults.enter("restart the killed replica");
    const target = (await demo.leader("no leader before the restart")).commitIndex;
    screen.say(`restarting r${victim}`);
    const restartedAt = screen.elapsed();
    demo.start(victim);
    const caught = await within(
      async () => {
        const s = await demo.cluster.status(victim, 500);
        return s !== undefined && s.appliedIndex >= target ? s : undefined;
      },
      `r${victim} did not catch up to index ${target} within ${patienceMs / 1000} s of its restart`,
    );
    screen.say(
      `r${victim} recovered ${recovered(caught)} and caught up to index ${target} ` +
        `in ${seconds(screen.elapsed() - restartedAt)} s${caughtUpBy(caught)}`,
    );
    await sleep(phaseMs);

    // 5. Stop the load, read every acknowledged write back, summarise.
    demo.faults.enter("read back");
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
        noLeaderMs: electedAt - killedAt,
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
    reportUserActions(screen, demo.faults);
    stopProgress();
    screen.endProgress();
    await workload?.abort();
    await demo.stop();
    removeSignalHandlers();
    screen.print(
      `data folder kept: ${demo.dir} (replica-<i>.log: each replica's JSON log; data-<i>/: its ` +
        "write-ahead log and snapshots); the next run wipes it",
    );
  }
}

/** What a restarted replica read back from its data folder, from its /status. */
function recovered(s: ReplicaStatus): string {
  const entries = `${s.recovery.entries} entries`;
  return s.recovery.snapshotIndex === null
    ? `${entries} from its log`
    : `a snapshot at index ${s.recovery.snapshotIndex} and ${entries} from its log`;
}

/** How a restarted replica got what it missed: log entries from the leader, or a snapshot. */
function caughtUpBy(s: ReplicaStatus): string {
  return s.snapshots.installed > 0
    ? ` (the leader sent a snapshot at index ${s.snapshots.lastInstalledIndex})`
    : " (from the leader's log)";
}

/** Polls `condition` every 50 ms until it yields a value; a DemoFailure after patienceMs. */
const within = <T>(condition: () => T | undefined | Promise<T | undefined>, failure: string) =>
  pollUntil(condition, failure, patienceMs);
