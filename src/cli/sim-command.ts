import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { findProtocol, protocolRegistry } from "../protocols/registry.js";
import { defaultSimOptions, parseFaults, type SimOptions } from "../sim/options.js";
import { runSeeds } from "../sim/run-seeds.js";
import { serviceNames } from "../state-machines/registry.js";
import { intOption, numberOption, parseCommandArgs, UsageError } from "./args.js";
import { ProgressBar } from "./progress.js";
import { simServiceOption } from "./service-option.js";

export const simHelp = `lockstep sim: run the deterministic simulator

Runs a replicated service on virtual time with network, disk, process and clock faults, then
checks safety invariants, liveness after the faults stop, and linearizability of the history.

Usage: lockstep sim --protocol P [--seeds N | --seed S] [options]

  --protocol P     protocol or planted-bug variant (see --list)
  --seeds N        run seeds first..first+N-1 (default 100)
  --first S        first seed for --seeds (default 1)
  --seed S         run only seed S (replays a failure exactly)
  --service S      ${serviceNames.join(" | ")} (default kv), or the path of a built service module
                   whose default export is { definition, workload, model? } (docs/services.md)
  --clients C      concurrent clients (default ${defaultSimOptions.clients})
  --duration SEC   simulated seconds of load under faults (default ${defaultSimOptions.duration})
  --faults LIST    none | all | comma list of network,partition,crash,disk,pause,clock,membership (default all)
  --replicas N     replicas (default: the protocol's minimum for f)
  --f F            faults to tolerate (default: the protocol's)
  --roles          clients start with roles, and an operator demotes, promotes, revokes and
                   rotates clients c0 and c1 under load (agreement and linearizability checked)
  --twins         Twins (Bano et al. 2020), for Byzantine protocols: seed S runs enumerated
                   scenario S-1, where one replica runs as two copies with the same keys on two
                   sides of a partition that changes, then heals (the scenario owns partitions)
  --twin-count K   with --twins: twin K replicas at once (1 to f, default 1; e.g. --replicas 7
                   --f 2 --twin-count 2), each copy A on side A and each copy B on side B
  --crash-sweep    instead of random crashes alone: seed S crashes the first primary or backup
                   once, at the boundary S enumerates (a message, a durable write, an external
                   answer; before or after it; process or machine crash); use with --faults none
  --faulty-client  for Byzantine protocols: a faulty client (bad and split signatures, junk,
                   torrents, replays) next to the correct ones in 30% of the seeds
  --jobs J         worker threads (default: CPU count)
  --out DIR        where failing seeds' history and traces go (default lockstep-failures);
                   each gets SEEDFILE.trace.json for lockstep dashboard --replay
  --trace FILE     with --seed: write the run's structured trace (messages, faults, client
                   operations, replica statuses, verdict; JSON, docs/dashboard-replay.md)
  --until-failure  stop at the first failing seed (hunting a planted bug)
  --list           list protocols and variants
  --help           this text

Exit code 0 when every seed passes, 1 when any fails (the replay command is printed), 2 on
a usage error.`;

export async function simCommand(argv: readonly string[]): Promise<number> {
  const args = parseCommandArgs("sim", argv, {
    protocol: { type: "string" },
    seeds: { type: "string" },
    first: { type: "string" },
    seed: { type: "string" },
    service: { type: "string" },
    clients: { type: "string" },
    duration: { type: "string" },
    faults: { type: "string" },
    replicas: { type: "string" },
    f: { type: "string" },
    jobs: { type: "string" },
    out: { type: "string" },
    trace: { type: "string" },
    "until-failure": { type: "boolean" },
    roles: { type: "boolean" },
    twins: { type: "boolean" },
    "twin-count": { type: "string" },
    "crash-sweep": { type: "boolean" },
    "faulty-client": { type: "boolean" },
    list: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (args.help) {
    console.log(simHelp);
    return 0;
  }
  if (args.list) {
    for (const p of protocolRegistry()) console.log(`${p.name.padEnd(40)} ${p.description}`);
    return 0;
  }
  if (typeof args.protocol !== "string")
    throw new UsageError("sim: --protocol is required (see lockstep sim --list)");
  let protocol: ReturnType<typeof findProtocol>;
  try {
    protocol = findProtocol(args.protocol);
  } catch (error) {
    throw new UsageError(`sim: ${(error as Error).message}`);
  }
  if (args["faulty-client"] && !protocol.adversary?.faultyClient)
    throw new UsageError(`sim: --faulty-client needs a Byzantine-fault-tolerant protocol`);
  if (args.twins && !protocol.adversary)
    throw new UsageError(
      `sim: --twins needs a Byzantine-fault-tolerant protocol; ${protocol.name} tolerates crashes only`,
    );
  const service = await simServiceOption(args.service);
  let faults = defaultSimOptions.faults;
  if (typeof args.faults === "string") {
    try {
      faults = parseFaults(args.faults);
    } catch (error) {
      throw new UsageError(`sim: --faults: ${(error as Error).message}`);
    }
  }
  const f = args.f === undefined ? undefined : intOption("sim", "f", args.f, 0, 0, 10);
  const replicas =
    args.replicas === undefined ? undefined : intOption("sim", "replicas", args.replicas, 1, 1, 31);
  let twinCount: number | undefined;
  if (args["twin-count"] !== undefined) {
    if (!args.twins) throw new UsageError("sim: --twin-count needs --twins");
    const tolerated = f ?? protocol.defaultF;
    twinCount = intOption("sim", "twin-count", args["twin-count"], 1, 1, 10);
    if (twinCount > tolerated)
      throw new UsageError(
        `sim: --twin-count ${twinCount} twins more replicas than f = ${tolerated} tolerates`,
      );
    const n = replicas ?? protocol.definition.replicaCount.replicasFor(tolerated);
    if (3 * twinCount >= n)
      throw new UsageError(
        `sim: --twin-count ${twinCount} needs more than ${3 * twinCount} replicas, got ${n}`,
      );
  }
  const base: Omit<SimOptions, "seed"> = {
    protocol: protocol.name,
    service,
    clients: intOption("sim", "clients", args.clients, defaultSimOptions.clients, 1, 1000),
    duration: numberOption("sim", "duration", args.duration, defaultSimOptions.duration, 0.1, 3600),
    livenessBound: defaultSimOptions.livenessBound,
    faults,
    checkMaxSteps: defaultSimOptions.checkMaxSteps,
    ...(replicas !== undefined ? { replicas } : {}),
    ...(f !== undefined ? { f } : {}),
    ...(args.roles ? { roles: true } : {}),
    ...(args.twins ? { twins: true } : {}),
    ...(twinCount !== undefined && twinCount > 1 ? { twinCount } : {}),
    ...(args["crash-sweep"] ? { crashSweep: true } : {}),
    ...(args["faulty-client"] ? { faultyClient: true } : {}),
  };
  let seeds: number[];
  if (args.seed !== undefined) {
    if (args.seeds !== undefined) throw new UsageError("sim: give --seed or --seeds, not both");
    seeds = [intOption("sim", "seed", args.seed, 1, 0, Number.MAX_SAFE_INTEGER)];
  } else {
    const count = intOption("sim", "seeds", args.seeds, 100, 1, 10_000_000);
    const first = intOption("sim", "first", args.first, 1, 0, Number.MAX_SAFE_INTEGER - count);
    seeds = Array.from({ length: count }, (_, i) => first + i);
  }
  const traceFile = typeof args.trace === "string" ? args.trace : undefined;
  if (traceFile !== undefined && seeds.length !== 1)
    throw new UsageError("sim: --trace FILE records one run: give --seed S");
  if (traceFile !== undefined) {
    // Find out now, not after the run, that the file cannot be written.
    try {
      writeFileSync(traceFile, "");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new UsageError(`sim: --trace: cannot write ${traceFile} (${code})`);
    }
  }
  const jobs = intOption("sim", "jobs", args.jobs, availableParallelism(), 1, 256);
  const outDir = typeof args.out === "string" ? args.out : "lockstep-failures";

  const bar = new ProgressBar(seeds.length, "seeds");
  const report = await runSeeds({
    base,
    seeds,
    jobs,
    outDir,
    untilFailure: args["until-failure"] === true,
    ...(traceFile !== undefined ? { traceFile } : {}),
    onProgress: (done, failed) => bar.update(done, failed > 0 ? `${failed} failed` : ""),
  });
  bar.finish();

  for (const failure of report.failures) {
    const s = failure.summary;
    console.log(`FAIL seed ${s.options.seed} (trace ${s.traceHash}):`);
    for (const v of s.violations.slice(0, 5))
      console.log(`  ${v.split("\n").slice(0, 12).join("\n  ")}`);
    console.log(`  replay: ${failure.replay}`);
    if (failure.files.length > 0) console.log(`  history and trace: ${failure.files.join(", ")}`);
  }
  for (const c of report.crashed) console.log(`CRASH seed ${c.seed}: ${c.error}`);
  if (traceFile !== undefined && report.summaries.length === 1)
    console.log(
      `structured trace: ${traceFile} (open it with lockstep dashboard --replay ${traceFile})`,
    );
  if (seeds.length === 1 && report.summaries[0]) {
    const s = report.summaries[0];
    console.log(`seed ${s.options.seed}: ${s.ok ? "ok" : "FAILED"}, trace ${s.traceHash}`);
    console.log(`  ${JSON.stringify(s.stats)}`);
  }
  const simulatedS = report.summaries.reduce((n, s) => n + s.stats.simulatedMs, 0) / 1000;
  const ops = report.summaries.reduce((n, s) => n + s.checkedOperations, 0);
  const checkMs = report.summaries.reduce((n, s) => n + s.checkMs, 0);
  const runMs = report.summaries.reduce((n, s) => n + s.stats.elapsedMs, 0);
  const failedCount = report.failures.length + report.crashed.length;
  const ran = report.summaries.length + report.crashed.length;
  const changes = report.summaries.reduce((n, s) => n + s.stats.membershipChanges, 0);
  if (changes > 0) {
    const withChanges = report.summaries.filter((s) => s.stats.membershipChanges > 0).length;
    console.log(`membership changes completed: ${changes} in ${withChanges} seeds`);
  }
  console.log(
    `${protocol.name}: ${ran} seeds, ${ran - failedCount} passed, ${failedCount} failed; ` +
      `${simulatedS.toFixed(0)} simulated s in ${(report.wallMs / 1000).toFixed(1)} s wall on ${jobs} thread(s) ` +
      `(${(simulatedS / (runMs / 1000)).toFixed(0)} simulated s per thread-second); ` +
      `${ops} operations checked (${checkMs > 0 ? Math.round(ops / (checkMs / 1000)) : 0} ops/s in the checker)`,
  );
  return failedCount === 0 ? 0 : 1;
}
