import { join } from "node:path";
import type { AccessPolicy } from "../core/access.js";
import { type ClusterConfig, ConfigError, validateClusterConfig } from "../core/config.js";
import { clientKeyFile, writeKeyFile } from "../net/keys.js";
import { replicaCountOf } from "../protocols/registry.js";
import { arbiterPaths } from "../runtime/arbiter-args.js";
import { initialSettings, writeClusterFolder } from "../runtime/cluster-folder.js";
import { UsageError } from "./args.js";
import { assignPorts, type HostSpec } from "./init-hosts.js";

/**
 * The arbiter of a primary/backup cluster that `lockstep init` writes next to it (DIR/arbiter/):
 * a lockstep cluster of its own running the `arbiter` service, a 3-replica Raft group by default
 * or, for local demos, one `single` replica (a single point of failure).
 */
export type ArbiterKind = "raft" | "single";
export const arbiterKinds: readonly ArbiterKind[] = ["raft", "single"];

/** The arbiter's client id for primary/backup replica `id`: only these may claim epochs. */
export const arbiterClientId = (id: number): string => `pb-${id}`;

/** The arbiter replicas' ports: this far above the pair's base port (the pair has at most 9). */
export const arbiterPortOffset = 10;

export function parseArbiterKind(raw: string | boolean | undefined): ArbiterKind {
  if (raw === undefined) return "raft";
  if (typeof raw === "string" && arbiterKinds.includes(raw as ArbiterKind))
    return raw as ArbiterKind;
  throw new UsageError(
    `init: --arbiter must be raft (a 3-replica group) or single (one process, demo only), got ${JSON.stringify(raw)}`,
  );
}

/** `--arbiter-hosts`: one entry per arbiter replica. */
export function arbiterHostList(kind: ArbiterKind, hosts: readonly HostSpec[]): HostSpec[] {
  const n = kind === "raft" ? 3 : 1;
  if (hosts.length !== n)
    throw new UsageError(
      `init: --arbiter-hosts names ${hosts.length} host(s); the ${kind} arbiter has ${n} replica(s)`,
    );
  return [...hosts];
}

/** Where the arbiter's replicas listen: on the pair's hosts in turn, ports above the pair's. */
export function arbiterAddresses(
  kind: ArbiterKind,
  hosts: readonly HostSpec[],
  basePort: number,
  metricsOffset: number,
  explicit = false,
): { host: string; port: number; metricsPort: number }[] {
  const n = kind === "raft" ? 3 : 1;
  const base = basePort + arbiterPortOffset;
  // The arbiter's own hosts (--arbiter-hosts, one each) keep their ports; the pair's hosts in
  // turn do not (their ports are the pair's).
  const own = hosts.length === n && explicit;
  const spread = Array.from({ length: n }, (_, i) => ({
    host: hosts[i % hosts.length]!.host,
    port: own ? hosts[i]!.port : undefined,
  }));
  return assignPorts(spread, base, base + metricsOffset);
}

/** The arbiter group's configuration: only the pair's clients write; the operator's is admin. */
export function arbiterConfig(
  kind: ArbiterKind,
  clusterId: string,
  addresses: readonly { host: string; port: number; metricsPort: number }[],
  pairSize: number,
  tickMs: number,
): ClusterConfig {
  const roles: Record<string, "write" | "admin"> = { cli: "admin" };
  for (let id = 0; id < pairSize; id++) roles[arbiterClientId(id)] = "write";
  const clients: AccessPolicy = { defaultRole: "read", roles };
  try {
    return validateClusterConfig(
      {
        clusterId: `${clusterId}-arbiter`.slice(0, 64),
        protocol: kind,
        f: kind === "raft" ? 1 : 0,
        replicas: addresses.map((a, id) => ({ id, ...a })),
        tickMs,
        settings: initialSettings(kind),
        service: "arbiter",
        clients,
      },
      replicaCountOf,
    );
  } catch (error) {
    if (error instanceof ConfigError)
      throw new UsageError(`init: arbiter: ${error.problems.join("; ")}`);
    throw error;
  }
}

/**
 * Writes DIR/arbiter/ (its cluster.json and keys, the init layout) and each primary/backup
 * replica's client key for it, DIR/keys/arbiter-client-<i>.json (mode 0600).
 */
export function writeArbiter(dir: string, config: ClusterConfig, pairSize: number): string {
  const { folder, keys } = writeClusterFolder(join(dir, "arbiter"), config);
  const pairConfigFile = join(dir, "cluster.json");
  for (let id = 0; id < pairSize; id++) {
    writeKeyFile(
      arbiterPaths(pairConfigFile, id).keysFile,
      clientKeyFile(keys, arbiterClientId(id)),
    );
  }
  return folder.configFile;
}
