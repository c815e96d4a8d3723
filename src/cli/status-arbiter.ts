import type { ClusterConfig } from "../core/config.js";
import { arbiterPaths } from "../runtime/arbiter-args.js";
import { ConfigFileError, loadClusterConfig } from "../runtime/config-file.js";
import { type ClusterHealth, type ReplicaProbe, statusJson } from "./status-table.js";

/** The arbiter's configuration next to a primary/backup configuration, or why there is none. */
export function loadArbiterConfig(pairConfigFile: string): ClusterConfig | string {
  const file = arbiterPaths(pairConfigFile, 0).configFile;
  try {
    return loadClusterConfig(file);
  } catch (error) {
    if (error instanceof ConfigFileError) return error.message;
    throw error;
  }
}

/**
 * One line about a primary/backup cluster's arbiter: what it is (a single process is labelled a
 * single point of failure), its leader and how many of its replicas answer.
 */
export function formatArbiterLine(
  config: ClusterConfig,
  probes: readonly ReplicaProbe[],
  health: ClusterHealth,
): string {
  const kind =
    config.protocol === "single"
      ? "single process (demo only: a single point of failure)"
      : `${config.protocol} group of ${config.replicas.length}`;
  const answering = `${health.answering}/${health.total} answering`;
  const [leader] = health.leaders;
  if (leader === undefined) return `arbiter: ${kind}, no leader; ${answering}`;
  const down = probes.filter((p) => !("status" in p)).map((p) => `r${p.replica}`);
  return `arbiter: ${kind}, leader r${leader.replica} (${health.epochName} ${health.term}); ${answering}${down.length > 0 ? ` (down or unreachable: ${down.join(", ")})` : ""}`;
}

/**
 * The arbiter in `status --json`: the last element of the array for a primary/backup
 * configuration, `{"arbiter": {...}}`, so that consumers that read replicas (elements with a
 * `replica` field) are unaffected. `statuses` holds each arbiter replica's /status as the
 * array holds the pair's.
 */
export function arbiterJson(
  config: ClusterConfig,
  probes: readonly ReplicaProbe[],
  health: ClusterHealth,
): { readonly arbiter: { readonly [key: string]: unknown } } {
  const [leader] = health.leaders;
  return {
    arbiter: {
      kind: config.protocol === "single" ? "single" : config.protocol,
      singlePointOfFailure: config.protocol === "single",
      replicas: config.replicas.length,
      answering: health.answering,
      leader: leader?.replica ?? null,
      term: health.term ?? null,
      healthy: health.healthy,
      statuses: statusJson(probes),
    },
  };
}

/** `status --json` when the arbiter's configuration cannot be read. */
export function arbiterJsonError(message: string): {
  readonly arbiter: { readonly error: string };
} {
  return { arbiter: { error: `cannot read its configuration: ${message}` } };
}
