import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import type { AccessPolicy } from "../core/access.js";
import { type ClusterConfig, validateClusterConfig } from "../core/config.js";
import type { ProtocolName } from "../core/protocol.js";
import type { SessionLimits } from "../core/session-table.js";
import type { Value } from "../core/value.js";
import {
  type ClusterKeyFile,
  clientKeyFile,
  generateClusterKeys,
  replicaKeyFile,
  writeKeyFile,
} from "../net/keys.js";
import { replicaCountOf } from "../protocols/registry.js";

/**
 * The folder layout `lockstep init` writes and `lockstep up`, `bench` and the demo run from:
 *
 *   DIR/cluster.json              the configuration
 *   DIR/keys/cluster-keys.json    every secret
 *   DIR/keys/replica-<i>.json     replica i's keys
 *   DIR/keys/client-cli.json      the key of client "cli"
 *   DIR/data-<i>/                 replica i's data directory (made by the replica)
 */
export interface ClusterFolder {
  readonly dir: string;
  readonly configFile: string;
  keyFile(id: number): string;
  dataDir(id: number): string;
  readonly clusterKeysFile: string;
  readonly clientKeyFile: string;
}

/** The paths of the folder that holds `configFile`. */
export function clusterFolder(configFile: string): ClusterFolder {
  const dir = dirname(configFile);
  return {
    dir,
    configFile,
    keyFile: (id) => join(dir, "keys", `replica-${id}.json`),
    dataDir: (id) => join(dir, `data-${id}`),
    clusterKeysFile: join(dir, "keys", "cluster-keys.json"),
    clientKeyFile: join(dir, "keys", "client-cli.json"),
  };
}

/** Writes a validated configuration and fresh keys into `dir` (created; should be empty). */
export function writeClusterFolder(
  dir: string,
  config: ClusterConfig,
): { readonly folder: ClusterFolder; readonly keys: ClusterKeyFile } {
  mkdirSync(join(dir, "keys"), { recursive: true, mode: 0o700 });
  const folder = clusterFolder(join(dir, "cluster.json"));
  writeFileSync(folder.configFile, `${JSON.stringify(config, null, 2)}\n`);
  const n = config.replicas.length;
  const keys = generateClusterKeys(n);
  writeKeyFile(folder.clusterKeysFile, keys);
  for (let id = 0; id < n; id++) writeKeyFile(folder.keyFile(id), replicaKeyFile(keys, id));
  writeKeyFile(folder.clientKeyFile, clientKeyFile(keys, "cli"));
  return { folder, keys };
}

/** `n` distinct ports on `host` that were free a moment ago (bound together, then released). */
export async function freePorts(n: number, host = "127.0.0.1"): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once("error", reject);
            server.listen(0, host, () => {
              const address = server.address();
              if (address === null || typeof address === "string") reject(new Error("no port"));
              else resolve(address.port);
            });
          }),
      ),
    );
  } finally {
    await Promise.all(
      servers.map(
        (s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve())),
      ),
    );
  }
}

/**
 * The configuration of a throwaway cluster of `n` replicas on 127.0.0.1 (bench, demo): each
 * replica gets a free port and a free metrics port, and tolerates as many faults as `n` allows.
 */
export async function localClusterConfig(
  protocol: ProtocolName,
  n: number,
  extra: { readonly sessions?: Partial<SessionLimits>; readonly clients?: AccessPolicy } = {},
): Promise<ClusterConfig> {
  const ports = await freePorts(2 * n);
  const rule = replicaCountOf(protocol);
  if (!rule) throw new Error(`protocol ${protocol} is not available in this build`);
  return validateClusterConfig(
    {
      protocol,
      f: rule.faultsTolerated(n),
      tickMs: 10,
      replicas: Array.from({ length: n }, (_, id) => ({
        id,
        host: "127.0.0.1",
        port: ports[id],
        metricsPort: ports[n + id],
      })),
      ...extra,
      settings: initialSettings(protocol),
    },
    replicaCountOf,
  );
}

/**
 * The protocol settings a new cluster starts with (`lockstep init`, bench, demo): `{}` keeps
 * each protocol's defaults, which docs/protocols/*.md list.
 */
export function initialSettings(_protocol: ProtocolName): { readonly [key: string]: Value } {
  return {};
}
