import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ClusterConfig } from "../core/config.js";
import type { ServedPage } from "../dashboard/http/served-page.js";
import {
  byzantineProtocolProblem,
  isByzantineBehaviour,
  unknownBehaviour,
} from "../runtime/byzantine-replica.js";
import { clusterFolder } from "../runtime/cluster-folder.js";
import {
  ConfigFileError,
  loadClusterConfig,
  runtimeConfigProblems,
} from "../runtime/config-file.js";
import { type LogLevel, logLevels } from "../runtime/logger.js";
import { serviceNames } from "../state-machines/registry.js";
import { parseCommandArgs, UsageError } from "./args.js";
import { isLocalHost } from "./local-host.js";
import { serviceOption } from "./service-option.js";
import { planArbiter, type Supervised, SupervisorGroup } from "./up-arbiter.js";
import { type DashboardBind, dashboardBind, startUpDashboard } from "./up-dashboard.js";
import { restartPolicy } from "./up-restart-policy.js";
import { Supervisor, type SupervisorOptions } from "./up-supervisor.js";

export const upHelp = `lockstep up: run a whole local cluster and supervise it

Usage: lockstep up --config FILE [options]

Starts every replica of the configuration as a child process (the folder layout of
lockstep init), restarts replicas that exit, and stops them all on Ctrl-C (a second Ctrl-C
kills them at once). Prints one line per event on stdout.

  --config FILE      cluster configuration (cluster.json from lockstep init)
  --keys-dir DIR     folder of the replica key files replica-<i>.json (default: keys/ next to
                     the configuration)
  --data-dir DIR     folder of the data directories data-<i> (default: next to the configuration)
  --service S        the replicated service: ${serviceNames.join(", ")}, or the path of a built
                     service module (default: the configuration's service, else kv)
  --only IDS         start only these replicas, e.g. 0,2 (the others run elsewhere)

primary-backup: up also runs the arbiter cluster that init wrote in arbiter/ next to the
configuration (its lines start with "arbiter"). With --only, the arbiter's replicas are named
a0, a1, ... (or "arbiter" for all of them): --only 0,a0 on one machine, --only 1,a1 on the
next, --only a2 on a third; --only 0,1 runs the pair without its arbiter.

  --no-restart       report replicas that exit, do not restart them
  --log-level LEVEL  the replicas' log level: debug, info, warn or error (default info)
  --logs DIR         append each replica's log lines to DIR/replica-<i>.log (default: logs/
                     next to the configuration)
  --byzantine LIST   FOR TESTS AND DEMOS ONLY (protocol pbft): start these replicas as lying
                     ones, e.g. r0=equivocate,r2=corrupt-replies (lockstep replica --help lists
                     the behaviours); lockstep status marks them BYZANTINE
  --dashboard        also serve the live dashboard (docs/dashboard.md), with fault buttons for
                     the replicas this command started: kill -9, restart, pause/resume, cut/heal
                     links, and for pbft restart as Byzantine; prints "dashboard: URL"
  --dashboard-host H address to serve it on (default 127.0.0.1; anything else needs a token)
  --dashboard-port P its port (default 0: a free port)
  --dashboard-token T
                     a secret of at least 16 characters every dashboard request must carry
  --help             this text

A replica that exits on its own is restarted after ${restartPolicy.firstDelayMs / 1000} s, doubling up to ${restartPolicy.maxDelayMs / 1000} s (back to
${restartPolicy.firstDelayMs / 1000} s once it has run ${restartPolicy.resetAfterMs / 1000} s); not one that exited with code 2 (bad arguments), nor one
that failed ${restartPolicy.maxFailedStarts} times in a row within ${restartPolicy.failedStartMs / 1000} s of starting. Exit code: 0 after Ctrl-C or SIGTERM,
130 after a second Ctrl-C, 1 when every replica is down for good, 2 on bad arguments or config.`;

const stopGraceMs = 5_000;

type UpPlan = Omit<SupervisorOptions, "print"> & {
  readonly warnings: readonly string[];
  /** up --dashboard: where to serve it. */
  readonly dashboard?: DashboardBind;
  /** primary-backup: the arbiter group, run alongside (up-arbiter.ts). */
  readonly arbiter?: Omit<SupervisorOptions, "print">;
};

/** `--only`: replica ids of the pair, and (primary-backup) arbiter replicas a<i> or "arbiter". */
interface OnlyIds {
  readonly pair: number[];
  /** Arbiter replicas named; "all" for `arbiter`. */
  readonly arbiter: number[] | "all";
}

function parseOnly(raw: string, size: number, arbiterNames: boolean): OnlyIds {
  const pair: number[] = [];
  const arbiter: number[] = [];
  let allArbiter = false;
  const expected = arbiterNames
    ? `replica ids from 0 to ${size - 1}, arbiter replicas a0, a1, ... or "arbiter"`
    : `replica ids from 0 to ${size - 1}`;
  for (const part of raw.split(",")) {
    const text = part.trim();
    if (arbiterNames && text === "arbiter") {
      if (allArbiter) throw new UsageError("up: --only names the arbiter twice");
      allArbiter = true;
      continue;
    }
    const arbiterMatch = arbiterNames ? /^a(\d+)$/.exec(text) : null;
    if (arbiterMatch) {
      const id = Number(arbiterMatch[1]);
      if (arbiter.includes(id))
        throw new UsageError(`up: --only names arbiter replica a${id} twice`);
      arbiter.push(id);
      continue;
    }
    const id = Number(text);
    if (!/^\d+$/.test(text) || id >= size) {
      throw new UsageError(`up: --only expects ${expected} separated by commas, got "${raw}"`);
    }
    if (pair.includes(id)) throw new UsageError(`up: --only names replica ${id} twice`);
    pair.push(id);
  }
  if (allArbiter && arbiter.length > 0)
    throw new UsageError(
      `up: --only names "arbiter" and arbiter replicas a<i>; give one or the other`,
    );
  return {
    pair: pair.sort((a, b) => a - b),
    arbiter: allArbiter ? "all" : arbiter.sort((a, b) => a - b),
  };
}

/** `r0=equivocate,r2=silent` → id → behaviour; UsageError on anything else. */
function parseByzantine(raw: string, config: ClusterConfig): Map<number, string> {
  const problem = byzantineProtocolProblem(config.protocol);
  if (problem !== undefined) throw new UsageError(`up: ${problem}`);
  const out = new Map<number, string>();
  for (const part of raw.split(",")) {
    const match = /^r?(\d+)=([a-z-]+)$/.exec(part.trim());
    const id = Number(match?.[1]);
    if (!match || id >= config.replicas.length) {
      throw new UsageError(
        `up: --byzantine expects r<id>=<behaviour> pairs separated by commas (ids 0 to ${config.replicas.length - 1}), got "${raw}"`,
      );
    }
    if (!isByzantineBehaviour(match[2]!))
      throw new UsageError(`up: --byzantine: ${unknownBehaviour(match[2]!)}`);
    if (out.has(id)) throw new UsageError(`up: --byzantine names replica ${id} twice`);
    out.set(id, match[2]!);
  }
  if (out.size > config.f) {
    throw new UsageError(
      `up: --byzantine names ${out.size} replicas, but the cluster tolerates f = ${config.f} faulty ones`,
    );
  }
  return out;
}

/** Everything up checks before it starts a process; throws UsageError (exit 2). */
async function planUp(argv: readonly string[]): Promise<UpPlan | "help"> {
  const args = parseCommandArgs("up", argv, {
    config: { type: "string" },
    "keys-dir": { type: "string" },
    "data-dir": { type: "string" },
    service: { type: "string" },
    only: { type: "string" },
    "no-restart": { type: "boolean" },
    "log-level": { type: "string" },
    logs: { type: "string" },
    byzantine: { type: "string" },
    dashboard: { type: "boolean" },
    "dashboard-host": { type: "string" },
    "dashboard-port": { type: "string" },
    "dashboard-token": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (args.help) return "help";
  const dashboard = dashboardBind(args);
  const str = (name: string): string | undefined => {
    const v = args[name];
    if (v === "") throw new UsageError(`up: --${name} must not be empty`);
    return typeof v === "string" ? v : undefined;
  };
  const configArg = str("config");
  if (configArg === undefined)
    throw new UsageError("up: --config is required (see lockstep up --help)");
  const configFile = resolve(configArg);
  let config: ClusterConfig;
  try {
    config = loadClusterConfig(configFile);
  } catch (error) {
    if (error instanceof ConfigFileError) throw new UsageError(`up: ${error.message}`);
    throw error;
  }
  // The replicas get a module's absolute path: they need not share this working directory.
  const { spec: service } = await serviceOption("up", str("service") ?? config.service ?? "kv");
  const logLevel = (str("log-level") ?? "info") as LogLevel;
  if (!logLevels.includes(logLevel)) {
    throw new UsageError(
      `up: --log-level must be one of ${logLevels.join(", ")}, got "${logLevel}"`,
    );
  }
  const only = str("only");
  const pb = config.protocol === "primary-backup";
  const onlyIds = only === undefined ? undefined : parseOnly(only, config.replicas.length, pb);
  const ids = onlyIds?.pair ?? config.replicas.map((_, id) => id);
  const arbiterIds = onlyIds === undefined ? "all" : onlyIds.arbiter;
  const problems = [...new Set(ids.flatMap((id) => runtimeConfigProblems(config, id)))];
  if (problems.length > 0) throw new UsageError(`up: ${configFile}: ${problems.join("; ")}`);

  const byzantineArg = str("byzantine");
  const byzantine = byzantineArg === undefined ? undefined : parseByzantine(byzantineArg, config);

  const folder = clusterFolder(configFile);
  const keysDir = str("keys-dir");
  const dataDirArg = str("data-dir");
  const keyFile = (id: number) =>
    keysDir === undefined ? folder.keyFile(id) : join(resolve(keysDir), `replica-${id}.json`);
  const dataDir = (id: number) =>
    dataDirArg === undefined ? folder.dataDir(id) : join(resolve(dataDirArg), `data-${id}`);
  const missing = ids.map(keyFile).filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new UsageError(
      `up: missing key file${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (lockstep init writes them; or pass --keys-dir)`,
    );
  }
  const logsDir = resolve(str("logs") ?? join(folder.dir, "logs"));
  try {
    mkdirSync(logsDir, { recursive: true });
  } catch (error) {
    throw new UsageError(`up: --logs ${logsDir}: ${(error as Error).message}`);
  }
  // A replica on a host that is not this machine cannot bind its address; it would crash-loop
  // with a listen error. Warn rather than refuse: the name may well be local (DNS, /etc/hosts).
  const warnings = ids
    .map((id) => ({ id, host: config.replicas[id]?.host ?? "" }))
    .filter(({ host }) => !isLocalHost(host))
    .map(
      ({ id, host }) =>
        `up: warning: replica ${id}'s host ${host} does not look like an address of this machine`,
    );
  const restart = args["no-restart"] !== true;
  const arbiter =
    pb && (arbiterIds === "all" || arbiterIds.length > 0)
      ? planArbiter(configFile, { logLevel, restart, logsDir, ids: arbiterIds })
      : undefined;
  return {
    config,
    configFile,
    keyFile,
    dataDir,
    service,
    logLevel,
    ids,
    restart,
    logsDir,
    warnings,
    ...(dashboard && { dashboard }),
    ...(arbiter && { arbiter }),
    ...(byzantine === undefined ? {} : { byzantine }),
  };
}

export async function upCommand(argv: readonly string[]): Promise<number> {
  const plan = await planUp(argv);
  if (plan === "help") {
    console.log(upHelp);
    return 0;
  }
  for (const warning of plan.warnings) console.error(`lockstep: ${warning}`);
  const arbiter =
    plan.arbiter &&
    new Supervisor({ ...plan.arbiter, print: (line) => console.log(`arbiter ${line}`) });
  // --only naming arbiter replicas alone (a machine that hosts only the arbiter): no pair here.
  const pair =
    plan.ids.length > 0
      ? new Supervisor({ ...plan, print: (line) => console.log(line) })
      : undefined;
  let page: ServedPage | undefined;
  if (plan.dashboard !== undefined) {
    if (pair === undefined) {
      console.error("lockstep: up: --dashboard needs replicas of the cluster itself in --only");
      return 2;
    }
    try {
      page = await startUpDashboard(plan.dashboard, plan, pair, arbiter);
    } catch (error) {
      console.error(`lockstep: up: cannot serve the dashboard: ${(error as Error).message}`);
      return 1;
    }
    console.log(`dashboard: ${page.url}`);
  }
  try {
    if (arbiter === undefined) return await supervise(pair!);
    return await supervise(pair === undefined ? arbiter : new SupervisorGroup([arbiter, pair]));
  } finally {
    await page?.close();
  }
}

/**
 * Runs the supervisor until a signal or until every replica is down for good. Whatever ends it,
 * the replicas are stopped first: a process "exit" hook SIGKILLs any that are still alive.
 */
function supervise(supervisor: Supervised): Promise<number> {
  return new Promise<number>((resolveCode) => {
    let signals = 0;
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(signal, onSignal);
      process.off("uncaughtException", onFatal);
      process.off("unhandledRejection", onFatal);
      resolveCode(code);
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        console.log(`${signal}: stopping every replica (Ctrl-C again to kill them now)`);
        void supervisor.stop(stopGraceMs).then(() => {
          // A second signal took over: it reports and picks the exit code.
          if (signals > 1) return;
          console.log("stopped");
          finish(0);
        });
      } else {
        console.log(`${signal} again: killing every replica`);
        void supervisor.kill().then(() => {
          console.log("killed");
          finish(130);
        });
      }
    };
    const onFatal = (error: unknown): void => {
      console.error(`lockstep: up: ${(error as Error)?.stack ?? String(error)}`);
      void supervisor.stop(stopGraceMs).then(
        () => finish(1),
        () => finish(1),
      );
    };
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
    process.on("uncaughtException", onFatal);
    process.on("unhandledRejection", onFatal);
    // Last resort (process.exit anywhere, a fatal error after finish): no orphaned replicas.
    process.once("exit", () => supervisor.killNow());
    void supervisor.allDown.then(() => supervisor.stop(stopGraceMs)).then(() => finish(1));
    try {
      supervisor.start();
    } catch (error) {
      onFatal(error);
    }
  });
}
