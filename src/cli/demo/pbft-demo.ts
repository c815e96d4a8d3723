import type { ReplicaStatus } from "../../runtime/status.js";
import { startDemoDashboard } from "./demo-dashboard.js";
import { DemoFailure } from "./demo-failure.js";
import {
  handleDemoSignals,
  pollUntil,
  reportUserActions,
  requireEveryWriteRead,
} from "./demo-session.js";
import { PbftDemoCluster, pbftDetails, pbftReplicaCount } from "./pbft-demo-cluster.js";
import { formatPbftSummary } from "./pbft-summary.js";
import { startProgress } from "./progress-ticker.js";
import { readBack } from "./read-back.js";
import type { RealDemoOptions } from "./real-demo.js";
import { Screen, seconds } from "./screen.js";
import { DemoWorkload } from "./workload.js";

/** Per-operation time limit: long enough to ride out a view change. */
const opTimeoutMs = 5_000;
/** How long the demo waits for each thing it shows before it calls the run a failure. */
const patienceMs = 20_000;
/** The replica the demo turns Byzantine: the primary of view 0, later a backup. */
const liar = 0;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * `lockstep demo --protocol pbft`: a real 4-replica PBFT key-value cluster (f = 1) on 127.0.0.1
 * under a client workload. r0, the primary, is restarted as an equivocating Byzantine replica and
 * the others change view; then r0, now a backup, is restarted to send wrong replies, which the
 * clients out-vote; then it is SIGKILLed, kept down until the others are a window ahead, and
 * restarted correct: it catches up by state transfer. At the end every acknowledged write is read
 * back. Exit 0 only when all of that happened; every replica process is stopped on every path.
 */
export async function pbftDemo(options: RealDemoOptions): Promise<number> {
  const began = performance.now();
  const screen = new Screen(() => performance.now() - began);
  const demo = await PbftDemoCluster.create(options.dir, screen);
  let workload: DemoWorkload | undefined;
  let stopProgress = (): void => {};
  const removeSignalHandlers = handleDemoSignals(screen, demo, () => stopProgress());

  screen.print(
    `lockstep demo: a ${pbftReplicaCount}-replica PBFT key-value cluster (f = 1) on 127.0.0.1`,
  );
  screen.print(`data folder: ${demo.dir} (wiped and rewritten at the start of each run)`);
  const dashboard = await startDemoDashboard(screen, options.dashboard !== false, demo.faults);
  const statusOf = (id: number) => demo.cluster.status(id, 1_000);
  const within = <T>(
    condition: () => T | undefined | Promise<T | undefined>,
    failure: string,
  ): Promise<T> => pollUntil(condition, `${failure} within ${patienceMs / 1000} s`, patienceMs);
  try {
    const phaseMs = options.seconds * 1000;
    // 1. Start the replicas; wait until every one answers and 2f+1 follow one primary.
    screen.say(
      `starting r0..r${pbftReplicaCount - 1} as child processes (ports ${demo.ports.join(", ")})`,
    );
    demo.startAll();
    const first = await demo.primary("no primary established");
    await within(
      async () =>
        (await demo.cluster.statuses(500)).every((s) => s !== undefined) ? true : undefined,
      "not every replica answered",
    );
    screen.say(`cluster up: r${first.replica} is the primary of view ${first.term}`);

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
      `workload: ${options.clients} clients, each with one put or read-only get outstanding; ` +
        "each result needs 2f+1 = 3 matching replies",
    );
    stopProgress = startProgress(screen, () => ({
      ops: load.ok,
      errors: load.errorCount,
      leader: demo.watch.leader(),
      up: demo.up,
      replicas: pbftReplicaCount,
      names: { leader: "primary", epoch: "view" },
    }));
    await sleep(phaseMs);

    // 3. The primary comes back Byzantine: it equivocates. The others must change view.
    demo.faults.enter("restart the primary as equivocating");
    const primary = await demo.primary("the primary disappeared");
    if (primary.replica !== liar) {
      throw new DemoFailure(`r${liar} should be the first primary, but r${primary.replica} is`);
    }
    demo.faults.checkMayLie(liar);
    screen.say(`SIGKILL r${liar} (the primary) and restart it as a BYZANTINE replica: equivocate`);
    await demo.kill(liar);
    const lyingAt = screen.elapsed();
    demo.start(liar, "equivocate");
    const next = await demo.primary(
      `the others did not change view within 15 s of r${liar}'s Byzantine restart`,
      liar,
    );
    const viewChangeMs = (demo.watch.sighting(next.term)?.at ?? screen.elapsed()) - lyingAt;
    const firstWrite = await within(
      () => load.firstPutAfter(lyingAt),
      "no write was acknowledged after the view change",
    );
    const liarNow = pbftDetails(await statusOf(liar));
    const lies: Record<string, number> = { equivocate: liarNow.lies ?? 0 };
    const why =
      lies.equivocate === 0
        ? `r${liar} proposed nothing: restarted, a replica abstains in the view it may already ` +
          "have voted in, so the backups' request timers fired"
        : `r${liar} sent ${lies.equivocate} conflicting or withheld messages; the backups refused them`;
    screen.say(
      `the backups changed view: r${next.replica} is primary of view ${next.term}, ` +
        `${seconds(viewChangeMs)} s after the restart; writes acknowledged again ` +
        `${seconds(firstWrite - lyingAt)} s after it (${why})`,
    );
    await sleep(lyingAt + phaseMs - screen.elapsed());

    // 4. r0, now a backup, is restarted to answer clients with wrong results.
    demo.faults.enter("restart a backup as corrupt-replies");
    if (next.replica === liar) throw new DemoFailure(`r${liar} is primary again`);
    lies.equivocate = pbftDetails(await statusOf(liar)).lies ?? lies.equivocate!;
    demo.faults.checkMayLie(liar);
    screen.say(
      `SIGKILL r${liar} (a backup now) and restart it as a BYZANTINE replica: corrupt-replies`,
    );
    await demo.kill(liar);
    const outvotedBefore = load.outvoted(liar);
    demo.start(liar, "corrupt-replies");
    const corruptAt = screen.elapsed();
    await within(
      () => (load.outvoted(liar) > outvotedBefore ? true : undefined),
      `no reply of r${liar} was out-voted within ${patienceMs / 1000} s`,
    );
    await sleep(corruptAt + phaseMs - screen.elapsed());
    const outvotedPhase = load.outvoted(liar) - outvotedBefore;
    const lyingStatus = await statusOf(liar);
    lies["corrupt-replies"] = pbftDetails(lyingStatus).lies ?? 0;
    screen.say(
      `r${liar} sent ${lies["corrupt-replies"]} wrong replies; the clients out-voted ${outvotedPhase} ` +
        "of them (a result needs 2f+1 replicas to agree) and went on",
    );

    // 5. SIGKILL r0, let the others run a window ahead, restart it correct: state transfer.
    demo.faults.enter("state transfer");
    const leftAt = lyingStatus?.appliedIndex ?? 0;
    screen.say(
      `SIGKILL r${liar}; it stays down until the others have a stable checkpoint a window ahead`,
    );
    await demo.kill(liar);
    const window = (demo.config.settings as { windowSize: number }).windowSize;
    const honest = [1, 2, 3];
    const ahead = await within(
      async () => {
        const checkpoints = await Promise.all(
          honest.map(async (id) => pbftDetails(await statusOf(id)).stableCheckpoint ?? 0),
        );
        const stable = Math.min(...checkpoints);
        return stable > leftAt + window ? stable : undefined;
      },
      `the others did not get a window ahead of r${liar} within ${patienceMs / 1000} s`,
    );
    screen.say(`restarting r${liar} (correct again); the others' stable checkpoint is ${ahead}`);
    const restartedAt = screen.elapsed();
    demo.start(liar);
    const caught = await within(
      async () => {
        const s = await statusOf(liar);
        return s !== undefined && s.snapshots.installed > 0 && s.appliedIndex >= ahead
          ? s
          : undefined;
      },
      `r${liar} did not catch up by state transfer within ${patienceMs / 1000} s`,
    );
    const transferMs = screen.elapsed() - restartedAt;
    screen.say(
      `r${liar} fetched the state at checkpoint ${caught.snapshots.lastInstalledIndex} (each chunk ` +
        `checked against the digest 2f+1 replicas signed) and caught up in ${seconds(transferMs)} s`,
    );
    await sleep(phaseMs);

    // 6. Stop the load, read every acknowledged write back, summarise.
    demo.faults.enter("read back");
    await load.stop();
    const workloadMs = screen.elapsed() - loadStart;
    stopProgress();
    screen.endProgress();
    screen.say(
      `workload stopped; reading back all ${load.acknowledged.size} acknowledged writes to unique keys`,
    );
    const check = await readBack(demo.config, demo.keys, load.acknowledged, opTimeoutMs);
    const statuses = await demo.cluster.statuses(1_000);
    screen.print("");
    screen.print(
      formatPbftSummary({
        ok: load.ok,
        workloadMs,
        errors: load.errors,
        latenciesMs: load.latenciesMs.copy(),
        views: demo.watch.leaderTerms().map((view) => ({
          view,
          primary: demo.watch.sighting(view)!.replica,
        })),
        viewChangeMs,
        longestGap: load.longestGap(),
        outvoted: { phase: outvotedPhase, total: load.outvoted() },
        rejected: rejectedByKind(honest.map((id) => statuses[id])),
        lies,
        stateTransfer: { index: caught.snapshots.lastInstalledIndex ?? 0, ms: transferMs },
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
        "checkpoints and certificates); the next run wipes it",
    );
  }
}

/** The correct replicas' dropped messages, summed by kind. */
function rejectedByKind(statuses: readonly (ReplicaStatus | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of statuses) {
    for (const [kind, n] of Object.entries(pbftDetails(s).drops ?? {})) {
      out[kind] = (out[kind] ?? 0) + n;
    }
  }
  return out;
}
