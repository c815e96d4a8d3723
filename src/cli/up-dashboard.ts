import type { ClusterConfig } from "../core/config.js";
import { bindProblem } from "../dashboard/http/access.js";
import type { ServedPage } from "../dashboard/http/served-page.js";
import { startLiveDashboard } from "../dashboard/serve-live.js";
import { intOption, UsageError } from "./args.js";
import { UpControls } from "./up-controls.js";
import type { Supervisor } from "./up-supervisor.js";

/** Where `lockstep up --dashboard` serves its dashboard. */
export interface DashboardBind {
  readonly host: string;
  readonly port: number;
  readonly token?: string;
}

/** The --dashboard options of up, checked; undefined without --dashboard. */
export function dashboardBind(
  args: Readonly<Record<string, string | boolean | undefined>>,
): DashboardBind | undefined {
  const named = ["dashboard-host", "dashboard-port", "dashboard-token"].filter(
    (name) => args[name] !== undefined,
  );
  if (args.dashboard !== true) {
    if (named.length > 0) throw new UsageError(`up: --${named[0]} needs --dashboard`);
    return undefined;
  }
  for (const name of named) {
    if (args[name] === "") throw new UsageError(`up: --${name} must not be empty`);
  }
  const host = (args["dashboard-host"] as string | undefined) ?? "127.0.0.1";
  const token = args["dashboard-token"] as string | undefined;
  const problem = bindProblem(host, token);
  if (problem !== undefined)
    throw new UsageError(`up: ${problem.replace(/--(host|token)\b/g, "--dashboard-$1")}`);
  return {
    host,
    port: intOption("up", "dashboard-port", args["dashboard-port"], 0, 0, 65535),
    ...(token !== undefined && { token }),
  };
}

/**
 * Serves the live dashboard of the cluster `supervisor` runs, with its fault buttons, and for
 * primary/backup those of the arbiter replicas that `arbiterSupervisor` runs.
 */
export function startUpDashboard(
  bind: DashboardBind,
  plan: {
    readonly config: ClusterConfig;
    readonly configFile: string;
    readonly arbiter?: { readonly config: ClusterConfig };
  },
  supervisor: Supervisor,
  arbiterSupervisor?: Supervisor,
): Promise<ServedPage> {
  return startLiveDashboard({
    config: plan.config,
    ...bind,
    controls: new UpControls(supervisor.faults),
    title: plan.configFile,
    ...(plan.arbiter && { arbiter: plan.arbiter.config }),
    ...(arbiterSupervisor && { arbiterControls: new UpControls(arbiterSupervisor.faults) }),
  });
}
