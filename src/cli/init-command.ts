import { existsSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, validateClusterConfig } from "../core/config.js";
import type { ProtocolName } from "../core/protocol.js";
import { replicaCountOf } from "../protocols/registry.js";
import { initialSettings, writeClusterFolder } from "../runtime/cluster-folder.js";
import { intOption, parseCommandArgs, UsageError } from "./args.js";
import {
  arbiterAddresses,
  arbiterConfig,
  arbiterHostList,
  parseArbiterKind,
  writeArbiter,
} from "./init-arbiter.js";
import { assignPorts, type HostSpec, newClusterId, parseHosts, portsInUse } from "./init-hosts.js";
import { serviceOption } from "./service-option.js";

export const initHelp = `lockstep init: write a cluster configuration and its keys

Usage: lockstep init --protocol raft --replicas N --dir DIR [options]
       lockstep init --protocol raft --hosts H1,H2,H3 --dir DIR [options]

  --protocol P     raft (crash faults, 2f+1 replicas), pbft (Byzantine faults, 3f+1
                   replicas), primary-backup (crash faults: a primary, a backup and an
                   arbiter) or single (one replica)
  --replicas N     replicas (raft: 3, 5, 7...; f = (N-1)/2; pbft: 4, 7, 10...; f = (N-1)/3;
                   default: the smallest cluster that tolerates one fault, or one per --hosts entry)
  --dir DIR        folder to write (must be empty or new)
  --arbiter KIND   primary-backup: raft (default: a 3-replica Raft group runs the arbiter) or
                   single (one process: a single point of failure, for demos only)
  --arbiter-hosts LIST
                   primary-backup: where the arbiter's replicas run, as --hosts (3 entries for
                   raft, 1 for single; default: the pair's hosts in turn). Across machines, put
                   them where losing one machine loses at most one of them and not the pair too
  --spares N       primary-backup: spare replicas besides the pair (default 0, at most 7); a
                   spare becomes the backup when one is lost. pbft: replicas in the address
                   book besides the --replicas members (settings.members), to add later with
                   client.admin({op: "add", replica}) (docs/protocols/pbft.md, Reconfiguration)
  --host HOST      address every replica listens on (default 127.0.0.1)
  --hosts LIST     one replica per entry, on that machine: h1,h2,h3 or h1:7000,h2:7000
                   ([v6addr]:port for IPv6); a host without a port gets the base port (its
                   second replica base + 1, and so on)
  --base-port P    replica i listens on P+i (default 7400, or the next free block of ports)
  --metrics-base-port P
                   replica i serves /metrics and /status on P+i (default: base port + 100),
                   on its own host: lockstep status reads it there
  --tick-ms MS     logical clock tick (default 10)
  --service S      record the service the replicas run: kv, counter, lock, or the path of a
                   built service module (loaded now to check it); replica and up then default to it
  --cluster-id ID  name of the cluster (default: a random ls-…); replicas and clients of
                   another cluster are refused with a message naming both ids
  --help           this text

Ports on this machine that something already listens on (another cluster running) are not
handed out: without --base-port the next free block is used, with it init stops.

Writes DIR/cluster.json, DIR/keys/cluster-keys.json (every secret: keep it private),
DIR/keys/replica-<i>.json (what replica i needs) and DIR/keys/client-cli.json (a client key).
primary-backup also writes the arbiter's cluster in DIR/arbiter/ (same layout) and each
replica's client key for it, DIR/keys/arbiter-client-<i>.json.`;

const supported: readonly ProtocolName[] = ["raft", "pbft", "primary-backup", "single"];

export async function initCommand(argv: readonly string[]): Promise<number> {
  const args = parseCommandArgs("init", argv, {
    protocol: { type: "string" },
    replicas: { type: "string" },
    dir: { type: "string" },
    host: { type: "string" },
    hosts: { type: "string" },
    "cluster-id": { type: "string" },
    "base-port": { type: "string" },
    "metrics-base-port": { type: "string" },
    "tick-ms": { type: "string" },
    service: { type: "string" },
    arbiter: { type: "string" },
    "arbiter-hosts": { type: "string" },
    spares: { type: "string" },
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
  if (args.hosts !== undefined && args.host !== undefined) {
    throw new UsageError("init: give --host (every replica on one address) or --hosts, not both");
  }
  const hostList: HostSpec[] | undefined =
    typeof args.hosts === "string" ? parseHosts(args.hosts) : undefined;
  const rule = replicaCountOf(protocol as ProtocolName);
  if (!rule) throw new UsageError(`init: protocol ${protocol} is not available in this build`);
  const pb = protocol === "primary-backup";
  // PBFT's spares are address-book replicas outside settings.members, added later by an admin
  // request (docs/protocols/pbft.md, "Reconfiguration").
  const pbft = protocol === "pbft";
  if (!pb && (args.arbiter !== undefined || args["arbiter-hosts"] !== undefined))
    throw new UsageError("init: --arbiter and --arbiter-hosts are for --protocol primary-backup");
  if (!pb && !pbft && args.spares !== undefined)
    throw new UsageError("init: --spares is for --protocol primary-backup or pbft");
  if (pb && args.replicas !== undefined)
    throw new UsageError("init: primary-backup runs a pair; add replicas with --spares N");
  const arbiterKind = pb ? parseArbiterKind(args.arbiter) : undefined;
  const spares = pb || pbft ? intOption("init", "spares", args.spares, 0, 0, 7) : 0;
  // The default and the smallest cluster `init` writes: one that tolerates one fault, unless
  // the protocol tolerates none (single).
  const smallest = rule.replicasFor(Math.min(1, rule.maxF ?? 1));
  const members = pb
    ? 2 + spares
    : intOption(
        "init",
        "replicas",
        args.replicas,
        hostList ? Math.max(1, hostList.length - spares) : smallest,
        1,
        31,
      );
  // pbft: the members plus the spares; primary-backup counts its spares as replicas already.
  const n = pbft ? members + spares : members;
  if (hostList && hostList.length !== n) {
    throw new UsageError(
      `init: --hosts names ${hostList.length} hosts but --replicas${pbft && spares > 0 ? " + --spares" : ""} is ${n}`,
    );
  }
  const f = rule.faultsTolerated(members);
  if (rule.maxF === 0 && n !== smallest)
    throw new UsageError(
      `init: protocol ${protocol} runs exactly ${smallest === 1 ? "one replica" : `${smallest} replicas`}`,
    );
  if (members < smallest) {
    throw new UsageError(`init: ${protocol} needs at least ${smallest} replicas, got ${members}`);
  }
  const basePortGiven = args["base-port"] !== undefined;
  let basePort = intOption("init", "base-port", args["base-port"], 7400, 1, 65535 - n);
  const metricsGiven = args["metrics-base-port"] !== undefined;
  const metricsOffset = () =>
    metricsGiven
      ? intOption("init", "metrics-base-port", args["metrics-base-port"], 0, 1, 65535 - n) -
        basePort
      : Math.min(basePort + 100, 65535 - n) - basePort;
  const tickMs = intOption("init", "tick-ms", args["tick-ms"], 10, 1, 10_000);
  const clusterId = typeof args["cluster-id"] === "string" ? args["cluster-id"] : newClusterId();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(clusterId)) {
    throw new UsageError(
      `init: --cluster-id: clusterId: expected 1 to 64 letters, digits, ".", "_" or "-", got ${JSON.stringify(clusterId)}`,
    );
  }
  const hosts: HostSpec[] =
    hostList ??
    Array.from({ length: n }, () => ({
      host: typeof args.host === "string" ? args.host : "127.0.0.1",
      port: undefined,
    }));
  const dir = resolve(args.dir);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new UsageError(`init: ${dir} is not empty; choose a new folder`);
  }
  const service =
    args.service === undefined ? undefined : (await serviceOption("init", args.service)).spec;
  const plan = () => {
    const offset = metricsOffset();
    if (offset > -n && offset < n) {
      throw new UsageError(
        `init: replica ports ${basePort}-${basePort + n - 1} and metrics ports ${basePort + offset}-${basePort + offset + n - 1} overlap`,
      );
    }
    return assignPorts(hosts, basePort, basePort + offset);
  };
  let addresses = plan();
  // Ports another cluster (or anything else) holds on this machine are not handed out.
  const arbiterHosts =
    typeof args["arbiter-hosts"] === "string"
      ? arbiterHostList(arbiterKind ?? "raft", parseHosts(args["arbiter-hosts"]))
      : hosts;
  const arbiterAt = () =>
    arbiterKind === undefined
      ? []
      : arbiterAddresses(
          arbiterKind,
          arbiterHosts,
          basePort,
          metricsOffset(),
          args["arbiter-hosts"] !== undefined,
        );
  const everyPort = () =>
    [...addresses, ...arbiterAt()].flatMap((a) => [a, { host: a.host, port: a.metricsPort }]);
  let taken = await portsInUse(everyPort());
  const explicitPorts = hosts.some((h) => h.port !== undefined);
  for (
    let attempt = 0;
    taken.length > 0 && !basePortGiven && !explicitPorts && attempt < 50;
    attempt++
  ) {
    const next = basePort + 10;
    if (next > 65535 - n - 100) break;
    console.error(
      `init: ${taken.join(", ")} in use (another cluster running?); trying base port ${next}`,
    );
    basePort = next;
    addresses = plan();
    taken = await portsInUse(everyPort());
  }
  if (taken.length > 0) {
    throw new UsageError(
      `init: ${taken.join(", ")} already in use on this machine (another cluster running?); choose other ports (--base-port, or host:port in --hosts)`,
    );
  }
  let config: ReturnType<typeof validateClusterConfig>;
  try {
    config = validateClusterConfig(
      {
        clusterId,
        protocol,
        f,
        replicas: addresses.map((a, id) => ({ id, ...a })),
        tickMs,
        settings:
          pbft && spares > 0
            ? { members: Array.from({ length: members }, (_, id) => id) }
            : initialSettings(protocol as ProtocolName),
        ...(service === undefined ? {} : { service }),
        // The operator's client is admin; every other client writes (docs/net.md, "Roles").
        clients: { defaultRole: "write", roles: { cli: "admin" } },
      },
      replicaCountOf,
    );
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`init: ${error.problems.join("; ")}`);
    throw error;
  }
  const arbiter =
    arbiterKind === undefined
      ? undefined
      : arbiterConfig(arbiterKind, clusterId, arbiterAt(), n, tickMs);
  const { folder } = writeClusterFolder(dir, config);
  const spareNote = pbft && spares > 0 ? `, ${members} members and ${spares} spare(s)` : "";
  console.log(
    `wrote ${protocol} cluster ${clusterId} of ${n} replica(s)${spareNote} (f = ${f}) to ${dir}`,
  );
  if (arbiter) {
    const file = writeArbiter(dir, arbiter, n);
    console.log(
      arbiter.protocol === "single"
        ? `wrote its arbiter: ONE single-protocol process (demo only: a single point of failure; no failover while it is down) to ${file}`
        : `wrote its arbiter: a 3-replica Raft group running the arbiter service (tolerates 1 fault) to ${file}`,
    );
  }
  const machines = new Set(addresses.map((a) => a.host));
  if (machines.size > 1) {
    console.log(
      `copy cluster.json and keys/replica-<i>.json to each machine (replica i's key to machine i only), then start each replica there:`,
    );
    if (arbiter)
      console.log(
        "(primary-backup: also copy keys/arbiter-client-<i>.json to machine i, and arbiter/ to the arbiter's machines; start the arbiter's replicas there with lockstep replica --config arbiter/cluster.json)",
      );
  } else {
    console.log(`run the whole cluster with:\n  npx lockstep up --config ${folder.configFile}`);
    if (arbiter)
      console.log(
        "(it starts the arbiter too; or run it alone with lockstep up --config DIR/arbiter/cluster.json)",
      );
    console.log("or start each replica with:");
  }
  for (let id = 0; id < n; id++) {
    const on = machines.size > 1 ? `on ${addresses[id]!.host}: ` : "";
    console.log(
      `  ${on}npx lockstep replica --config ${folder.configFile} --keys ${folder.keyFile(id)} --id ${id} --data ${folder.dataDir(id)}`,
    );
  }
  return 0;
}
