import { join } from "node:path";
import type { ClusterConfig } from "../core/config.js";
import { freePorts } from "../runtime/cluster-folder.js";
import { LocalCluster } from "../runtime/local-cluster.js";
import { type ArbiterKind, arbiterConfig, writeArbiter } from "./init-arbiter.js";

/**
 * The arbiter a primary/backup bench cluster needs, written into the bench folder (the layout of
 * lockstep init) and started: a 3-replica Raft group (init's default) or one single process. It
 * is asked only when a replica goes live, never per put; a Raft group still ticks and heartbeats
 * on the same machine, which the measured pair shares the CPU with.
 */
export async function startBenchArbiter(
  dir: string,
  pair: ClusterConfig,
  kind: ArbiterKind,
): Promise<LocalCluster> {
  const n = kind === "raft" ? 3 : 1;
  const ports = await freePorts(2 * n);
  const addresses = Array.from({ length: n }, (_, i) => ({
    host: "127.0.0.1",
    port: ports[i]!,
    metricsPort: ports[n + i]!,
  }));
  const config = arbiterConfig(kind, "bench", addresses, pair.replicas.length, pair.tickMs);
  const configFile = writeArbiter(dir, config, pair.replicas.length);
  const arbiterDir = join(dir, "arbiter");
  const cluster = new LocalCluster({
    config,
    configFile,
    keyFile: (id) => join(arbiterDir, "keys", `replica-${id}.json`),
    dataDir: (id) => join(arbiterDir, `data-${id}`),
    service: "arbiter",
    logLevel: "warn",
    detached: true,
  });
  cluster.startAll();
  return cluster;
}
