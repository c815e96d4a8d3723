import { readFileSync } from "node:fs";
import { type ClusterConfig, ConfigError, validateClusterConfig } from "../core/config.js";
import type { ReplicaId } from "../core/ids.js";
import { replicaCountOf } from "../protocols/registry.js";

/** A cluster configuration file that cannot be read or is not a valid configuration. */
export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.join("; ")}`);
    this.name = "ConfigFileError";
  }
}

/**
 * Reads a cluster configuration file (JSON accepted by `validateClusterConfig`, see
 * docs/operations.md). Every error names the file: unreadable, not JSON, or every bad field.
 */
export function loadClusterConfig(file: string): ClusterConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigFileError(file, [
      code === "ENOENT" ? "no such file" : `cannot read: ${(error as Error).message}`,
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(file, [`not JSON: ${(error as Error).message}`]);
  }
  try {
    return validateClusterConfig(raw, replicaCountOf);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigFileError(file, error.problems);
    throw error;
  }
}

/**
 * Problems that stop a configuration from running on real sockets (it may still be fine for the
 * simulator): replica `id` must exist and every replica needs an address.
 */
export function runtimeConfigProblems(config: ClusterConfig, id: ReplicaId): string[] {
  const problems: string[] = [];
  if (!config.replicas.some((r) => r.id === id)) {
    problems.push(
      `replica ${id} is not in the configuration (ids 0..${config.replicas.length - 1})`,
    );
  }
  for (const r of config.replicas) {
    if (r.host === undefined || r.port === undefined) {
      problems.push(`replicas[${r.id}]: needs a host and a port to run on the network`);
    }
  }
  return problems;
}
