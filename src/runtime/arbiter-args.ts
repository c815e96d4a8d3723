import { dirname, join } from "node:path";
import type { ClusterConfig } from "../core/config.js";
import { readKeyFile } from "../net/keys.js";
import { type ArbiterHandler, arbiterHandler, defaultArbiterTimeoutMs } from "./arbiter-handler.js";
import { ConfigFileError, loadClusterConfig } from "./config-file.js";
import { firstLine, StartupError } from "./errors.js";
import type { ReplicaArgs } from "./replica-args.js";

/** Where `lockstep init --protocol primary-backup` puts the arbiter's files, next to cluster.json. */
export function arbiterPaths(configFile: string, id: number) {
  const dir = dirname(configFile);
  return {
    configFile: join(dir, "arbiter", "cluster.json"),
    keysFile: join(dir, "keys", `arbiter-client-${id}.json`),
  };
}

/**
 * A primary/backup replica's arbiter client, from its arguments (defaults: the init layout);
 * undefined for other protocols. Throws StartupError("config" | "keys") naming the file, so a
 * replica without an arbiter does not start (it could never go live).
 */
export function loadArbiterHandler(
  args: ReplicaArgs,
  config: ClusterConfig,
): ArbiterHandler | undefined {
  if (config.protocol !== "primary-backup") return undefined;
  const defaults = arbiterPaths(args.configFile, args.id);
  const configFile = args.arbiter.configFile ?? defaults.configFile;
  const keysFile = args.arbiter.keysFile ?? defaults.keysFile;
  let arbiterConfig: ClusterConfig;
  try {
    arbiterConfig = loadClusterConfig(configFile);
  } catch (error) {
    const why =
      error instanceof ConfigFileError ? error.message : `${configFile}: ${firstLine(error)}`;
    throw new StartupError("config", `arbiter: ${why} (--arbiter-config)`);
  }
  if (arbiterConfig.protocol === "primary-backup")
    throw new StartupError(
      "config",
      `arbiter: ${configFile} is a primary-backup cluster, not an arbiter`,
    );
  let keys: ReturnType<typeof readKeyFile>;
  try {
    keys = readKeyFile(keysFile);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new StartupError(
      "keys",
      `arbiter: ${keysFile}: ${code === "ENOENT" ? "no such file" : firstLine(error)} (--arbiter-keys)`,
    );
  }
  if (keys.kind !== "client")
    throw new StartupError(
      "keys",
      `arbiter: ${keysFile} is not a client key file (--arbiter-keys)`,
    );
  return arbiterHandler({
    config: arbiterConfig,
    keys,
    timeoutMs: args.arbiter.timeoutMs ?? defaultArbiterTimeoutMs,
  });
}
