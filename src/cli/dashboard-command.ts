import { resolve } from "node:path";
import type { ClusterConfig } from "../core/config.js";
import { bindProblem } from "../dashboard/http/access.js";
import type { ServedPage } from "../dashboard/http/served-page.js";
import { serveReplay } from "../dashboard/replay/serve-replay.js";
import { defaultPollMs, startLiveDashboard } from "../dashboard/serve-live.js";
import { ConfigFileError, loadClusterConfig } from "../runtime/config-file.js";
import { intOption, parseCommandArgs, UsageError } from "./args.js";
import { loadArbiterConfig } from "./status-arbiter.js";

export const dashboardHelp = `lockstep dashboard: watch a running cluster in a web page, or replay a simulator run

Usage: lockstep dashboard --config FILE [--host H] [--port P] [--token T] [--poll MS]
       lockstep dashboard --replay FILE [--host H] [--port P] [--token T]

With --config it polls every replica's /status and /metrics (at the host and metricsPort of
the configuration, as lockstep status does) and serves a live page: each replica's role,
term/view/epoch, indexes, lag, links, CPU and memory; throughput and p50/p99 latency charts;
a timeline of leader changes, restarts, snapshots, checkpoints, state transfers and rejected
messages. It only watches: fault buttons appear only in "lockstep up --dashboard", for the
processes that up started. docs/dashboard.md explains each panel.

  --config FILE  cluster configuration (cluster.json from lockstep init)
  --replay FILE  a simulator trace (lockstep sim --trace FILE) to replay instead
  --host H       address to serve on (default 127.0.0.1); anything but a loopback address
                 needs --token
  --port P       port to serve on (default 0: a free port; the URL is printed)
  --token T      a secret of at least 16 characters every request must carry (?token=T or
                 Authorization: Bearer T)
  --poll MS      poll the replicas every MS milliseconds (default ${defaultPollMs}; 100 to 10000)
  --help         this text

Prints "dashboard: URL" and serves until Ctrl-C. Exit code: 0 after Ctrl-C or SIGTERM, 2 on
bad arguments or config, 1 when the page cannot be served.`;

export interface DashboardPlan {
  readonly mode: "live" | "replay";
  readonly file: string;
  readonly host: string;
  readonly port: number;
  readonly token?: string;
  readonly pollMs: number;
}

/** Checks `lockstep dashboard`'s arguments; throws UsageError (one line, exit 2). */
export function planDashboard(argv: readonly string[]): DashboardPlan | "help" {
  const args = parseCommandArgs("dashboard", argv, {
    config: { type: "string" },
    replay: { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    token: { type: "string" },
    poll: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (args.help) return "help";
  for (const name of ["config", "replay", "host", "token"]) {
    if (args[name] === "") throw new UsageError(`dashboard: --${name} must not be empty`);
  }
  const config = args.config as string | undefined;
  const replay = args.replay as string | undefined;
  if (config !== undefined && replay !== undefined)
    throw new UsageError(
      "dashboard: give --config (a live cluster) or --replay (a trace), not both",
    );
  if (config === undefined && replay === undefined)
    throw new UsageError(
      "dashboard: --config FILE or --replay FILE is required (see lockstep dashboard --help)",
    );
  if (replay !== undefined && args.poll !== undefined)
    throw new UsageError("dashboard: --poll has no effect with --replay");
  const host = (args.host as string | undefined) ?? "127.0.0.1";
  const token = args.token as string | undefined;
  const problem = bindProblem(host, token);
  if (problem !== undefined) throw new UsageError(`dashboard: ${problem}`);
  return {
    mode: config !== undefined ? "live" : "replay",
    file: resolve(config ?? replay ?? ""),
    host,
    port: intOption("dashboard", "port", args.port, 0, 0, 65535),
    ...(token !== undefined && { token }),
    pollMs: intOption("dashboard", "poll", args.poll, defaultPollMs, 100, 10_000),
  };
}

function loadConfig(file: string): ClusterConfig {
  try {
    return loadClusterConfig(file);
  } catch (error) {
    if (error instanceof ConfigFileError) throw new UsageError(`dashboard: ${error.message}`);
    throw error;
  }
}

async function serve(plan: DashboardPlan): Promise<ServedPage> {
  const bind = {
    host: plan.host,
    port: plan.port,
    ...(plan.token !== undefined && { token: plan.token }),
  };
  if (plan.mode === "replay") return serveReplay({ file: plan.file, ...bind });
  const config = loadConfig(plan.file);
  const arbiter = config.protocol === "primary-backup" ? loadArbiterConfig(plan.file) : undefined;
  return startLiveDashboard({
    config,
    ...bind,
    pollMs: plan.pollMs,
    title: plan.file,
    ...(typeof arbiter === "object" && { arbiter }),
  });
}

export async function dashboardCommand(argv: readonly string[]): Promise<number> {
  const plan = planDashboard(argv);
  if (plan === "help") {
    console.log(dashboardHelp);
    return 0;
  }
  let page: ServedPage;
  try {
    page = await serve(plan);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    console.error(`lockstep: dashboard: ${(error as Error)?.message ?? String(error)}`);
    return 1;
  }
  console.log(`dashboard: ${page.url}`);
  if (plan.token !== undefined) console.log("open it with ?token=<your token> added to the URL");
  await new Promise<void>((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await page.close();
  return 0;
}
