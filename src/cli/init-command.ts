import { existsSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { validateClusterConfig } from "../core/config.js";
import type { ProtocolName } from "../core/protocol.js";
import { replicaCountOf } from "../protocols/registry.js";
import { writeClusterFolder } from "../runtime/cluster-folder.js";
import { intOption, parseCommandArgs, UsageError } from "./args.js";

export const initHelp = `lockstep init: write a cluster configuration and its keys

Usage: lockstep init --protocol raft --replicas N --dir DIR [options]

  --protocol P     raft (crash faults, 2f+1 replicas) or single (one replica)
  --replicas N     replicas (raft: 3, 5, 7...; f = (N-1)/2)
  --dir DIR        folder to write (must be empty or new)
  --host HOST      address every replica listens on (default 127.0.0.1)
  --base-port P    replica i listens on P+i (default 7400)
  --metrics-base-port P
                   replica i serves /metrics and /status on P+i (default: base port + 100)
  --tick-ms MS     logical clock tick (default 10)
  --help           this text

Writes DIR/cluster.json, DIR/keys/cluster-keys.json (every secret: keep it private),
DIR/keys/replica-<i>.json (what replica i needs) and DIR/keys/client-cli.json (a client key).`;

const supported: readonly ProtocolName[] = ["raft", "single"];

export async function initCommand(argv: readonly string[]): Promise<number> {
  const args = parseCommandArgs("init", argv, {
    protocol: { type: "string" },
    replicas: { type: "string" },
    dir: { type: "string" },
    host: { type: "string" },
    "base-port": { type: "string" },
    "metrics-base-port": { type: "string" },
    "tick-ms": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (args.help) {
    console.log(initHelp);
    return 0;
  }
  const protocol = args.protocol;
  if (typeof protocol !== "string" || !supported.includes(protocol as ProtocolName)) {
    throw new UsageError(
      `init: --protocol must be one of ${supported.join(", ")}, got ${JSON.stringify(protocol ?? null)}`,
    );
  }
  if (typeof args.dir !== "string" || args.dir === "")
    throw new UsageError("init: --dir is required");
  const rule = replicaCountOf(protocol as ProtocolName);
  if (!rule) throw new UsageError(`init: protocol ${protocol} is not available in this build`);
  // The default and the smallest cluster `init` writes: one that tolerates one fault, unless
  // the protocol tolerates none (single).
  const smallest = rule.replicasFor(Math.min(1, rule.maxF ?? 1));
  const n = intOption("init", "replicas", args.replicas, smallest, 1, 31);
  const f = rule.faultsTolerated(n);
  if (rule.maxF === 0 && n !== smallest)
    throw new UsageError(
      `init: protocol ${protocol} runs exactly ${smallest === 1 ? "one replica" : `${smallest} replicas`}`,
    );
  if (n < smallest) {
    throw new UsageError(`init: ${protocol} needs at least ${smallest} replicas, got ${n}`);
  }
  const basePort = intOption("init", "base-port", args["base-port"], 7400, 1, 65535 - n);
  const metricsBasePort = intOption(
    "init",
    "metrics-base-port",
    args["metrics-base-port"],
    Math.min(basePort + 100, 65535 - n),
    1,
    65535 - n,
  );
  if (metricsBasePort < basePort + n && basePort < metricsBasePort + n) {
    throw new UsageError(
      `init: replica ports ${basePort}-${basePort + n - 1} and metrics ports ${metricsBasePort}-${metricsBasePort + n - 1} overlap`,
    );
  }
  const tickMs = intOption("init", "tick-ms", args["tick-ms"], 10, 1, 10_000);
  const host = typeof args.host === "string" ? args.host : "127.0.0.1";
  const dir = resolve(args.dir);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new UsageError(`init: ${dir} is not empty; choose a new folder`);
  }
  const config = validateClusterConfig(
    {
      protocol,
      f,
      replicas: Array.from({ length: n }, (_, id) => ({
        id,
        host,
        port: basePort + id,
        metricsPort: metricsBasePort + id,
      })),
      tickMs,
      settings: {},
    },
    replicaCountOf,
  );
  const { folder } = writeClusterFolder(dir, config);
  console.log(`wrote ${protocol} cluster of ${n} replica(s) (f = ${f}) to ${dir}`);
  console.log(`run the whole cluster with:\n  npx lockstep up --config ${folder.configFile}`);
  console.log("or start each replica with:");
  for (let id = 0; id < n; id++) {
    console.log(
      `  npx lockstep replica --config ${folder.configFile} --keys ${folder.keyFile(id)} --id ${id} --data ${folder.dataDir(id)}`,
    );
  }
  return 0;
}
