import type { ClusterConfig } from "../core/config.js";
import { ConfigFileError, loadClusterConfig } from "../runtime/config-file.js";
import { fetchReplicaStatus, statusFailureReason } from "../runtime/status-client.js";
import { intOption, numberOption, parseCommandArgs, UsageError } from "./args.js";
import {
  arbiterJson,
  arbiterJsonError,
  formatArbiterLine,
  loadArbiterConfig,
} from "./status-arbiter.js";
import {
  assessCluster,
  formatStatusTable,
  formatSummary,
  type ReplicaProbe,
  statusJson,
} from "./status-table.js";

export const statusHelp = `lockstep status: show each replica's role, term, indexes and lag

Usage: lockstep status --config FILE [options]

Reads GET /status from every replica of the configuration, at its host and its metricsPort
(lockstep init writes one per replica; a replica started without --metrics-port serves it
there). A replica without a metricsPort in the configuration is shown as such: add one and
start the replica with that --metrics-port.

  --config FILE    cluster configuration (cluster.json from lockstep init)
  --json           print an array of statuses ({replica, error} for those that do not answer)
  --watch S        redraw every S seconds until Ctrl-C
  --timeout MS     give up on a replica after MS milliseconds (default 1000)
  --help           this text

A status endpoint that cannot be reached is reported as such ("the replica may be up"): the
endpoint listens where the replica listens unless it was started with --metrics-host. A replica
of another cluster (its cluster id differs from the configuration's) is reported, not counted.

primary-backup: the lag column is the backup's distance behind the primary, and one more line
shows the arbiter (init's arbiter/ folder next to the configuration): its leader and replicas.
With --json the array ends with {"arbiter": {kind, leader, term, answering, statuses, ...}}
(statuses: the arbiter replicas' /status as above); the exit code is the pair's.

Exit code: 0 when a quorum answers (a majority; 2f+1 of 3f+1 for pbft; for primary-backup
the primary alone) and exactly one replica leads in the newest term (view for pbft), 1 otherwise (with --watch: as of the last
redraw), 2 on bad arguments or config.`;

async function probe(config: ClusterConfig, timeoutMs: number): Promise<ReplicaProbe[]> {
  return Promise.all(
    config.replicas.map(async (r, replica): Promise<ReplicaProbe> => {
      if (r.metricsPort === undefined) return { replica, error: "no metricsPort in config" };
      if (r.host === undefined) return { replica, error: "no host in config" };
      const at = `${r.host.includes(":") ? `[${r.host}]` : r.host}:${r.metricsPort}`;
      let status: Awaited<ReturnType<typeof fetchReplicaStatus>>;
      try {
        status = await fetchReplicaStatus(r.host, r.metricsPort, timeoutMs);
      } catch (error) {
        const why = statusFailureReason(error, timeoutMs);
        // An HTTP answer that is not a status is something else on that port, not silence.
        const answered = why.startsWith("HTTP ") || why === "not a lockstep /status answer";
        return answered
          ? { replica, error: `${at}: ${why}` }
          : { replica, error: why, unreachable: at };
      }
      const theirs = status.clusterId ?? null;
      if (config.clusterId !== undefined && theirs !== null && theirs !== config.clusterId) {
        return {
          replica,
          error: `${at} answers for cluster ${theirs}, not ${config.clusterId} (another cluster on these ports?)`,
        };
      }
      if (status.replica !== replica) {
        return { replica, error: `${at} answers as replica ${status.replica}` };
      }
      return { replica, status };
    }),
  );
}

/** One look at the cluster: what to print and the exit code it implies. */
async function look(
  config: ClusterConfig,
  timeoutMs: number,
  json: boolean,
  arbiter?: ClusterConfig | string,
): Promise<{ readonly text: string; readonly code: number }> {
  const [probes, arbiterProbes] = await Promise.all([
    probe(config, timeoutMs),
    arbiter === undefined || typeof arbiter === "string" ? undefined : probe(arbiter, timeoutMs),
  ]);
  const health = assessCluster(probes);
  let text: string;
  if (json) {
    // primary-backup: one more element, about the arbiter that decides its epochs.
    const entries: unknown[] = statusJson(probes);
    if (typeof arbiter === "string") entries.push(arbiterJsonError(arbiter));
    else if (arbiter !== undefined && arbiterProbes !== undefined)
      entries.push(arbiterJson(arbiter, arbiterProbes, assessCluster(arbiterProbes)));
    text = JSON.stringify(entries);
  } else {
    text = `${formatStatusTable(probes, health)}\n${formatSummary(health)}`;
    // primary-backup: one more line, about the arbiter.
    if (typeof arbiter === "string") text += `\narbiter: cannot read its configuration: ${arbiter}`;
    else if (arbiter !== undefined && arbiterProbes !== undefined)
      text += `\n${formatArbiterLine(arbiter, arbiterProbes, assessCluster(arbiterProbes))}`;
  }
  return { text, code: health.healthy ? 0 : 1 };
}

export async function statusCommand(argv: readonly string[]): Promise<number> {
  const args = parseCommandArgs("status", argv, {
    config: { type: "string" },
    json: { type: "boolean" },
    watch: { type: "string" },
    timeout: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (args.help) {
    console.log(statusHelp);
    return 0;
  }
  if (typeof args.config !== "string" || args.config === "") {
    throw new UsageError("status: --config is required (see lockstep status --help)");
  }
  const timeoutMs = intOption("status", "timeout", args.timeout, 1_000, 1, 600_000);
  const watchS =
    args.watch === undefined
      ? undefined
      : numberOption("status", "watch", args.watch, 1, 0.1, 86_400);
  let config: ClusterConfig;
  try {
    config = loadClusterConfig(args.config);
  } catch (error) {
    if (error instanceof ConfigFileError) throw new UsageError(`status: ${error.message}`);
    throw error;
  }
  const json = args.json === true;
  const arbiter = config.protocol === "primary-backup" ? loadArbiterConfig(args.config) : undefined;
  if (watchS === undefined) {
    const { text, code } = await look(config, timeoutMs, json, arbiter);
    console.log(text);
    return code;
  }
  return watch(config, timeoutMs, json, watchS, arbiter);
}

/** Redraws every `seconds` until SIGINT or SIGTERM; returns the last report's exit code. */
async function watch(
  config: ClusterConfig,
  timeoutMs: number,
  json: boolean,
  seconds: number,
  arbiter: ClusterConfig | string | undefined,
): Promise<number> {
  let stop = false;
  let wake: () => void = () => {};
  const onSignal = () => {
    stop = true;
    wake();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Clearing only on a terminal: piped into a file, the escape codes would be noise.
  const clear = process.stdout.isTTY && !json;
  let code = 1;
  try {
    while (!stop) {
      const result = await look(config, timeoutMs, json, arbiter);
      code = result.code;
      // Clear after the look, not before: the screen stays readable while replicas answer.
      if (clear) process.stdout.write("\x1b[2J\x1b[H");
      console.log(result.text);
      if (stop) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, seconds * 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return code;
}
