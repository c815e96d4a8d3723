import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { progressPrinter } from "../bench/progress-line.js";
import { runPutLoad, sharedConnections } from "../bench/put-load.js";
import { connect } from "../client/index.js";
import type { ProtocolName } from "../core/protocol.js";
import type { Value } from "../core/value.js";
import { clientKeyFile } from "../net/keys.js";
import { findProtocol, replicaCountOf } from "../protocols/registry.js";
import { localClusterConfig, writeClusterFolder } from "../runtime/cluster-folder.js";
import { LocalCluster } from "../runtime/local-cluster.js";
import type { ReplicaStatus } from "../runtime/status.js";
import { intOption, parseCommandArgs, UsageError } from "./args.js";
import { startBenchArbiter } from "./bench-arbiter.js";
import { type BenchReport, formatBenchReport } from "./bench-report.js";
import { type ArbiterKind, arbiterKinds } from "./init-arbiter.js";

export const benchHelp = `lockstep bench: measure put throughput and latency of a local cluster

Usage: lockstep bench [options]

Starts a fresh cluster of replica processes on 127.0.0.1 in a temporary folder, waits for a
leader, runs C clients that each keep one put outstanding (a closed loop) for S seconds, then
prints a table and stops the cluster. Storage fsyncs as in production.

  --protocol P      raft, pbft, primary-backup or single (default raft)
  --replicas N      replicas (default 3 for raft, 4 for pbft, 2 for primary-backup (plus its
                    arbiter, asked only at go-live), 1 for single)
  --arbiter KIND    primary-backup: the arbiter, as lockstep init writes it: raft (default, a
                    3-replica Raft group) or single (one process); the report names it
  --clients C       concurrent clients, each with one put outstanding (default 100)
  --connections K   client connections (LockstepClient sessions) the clients share, as in
                    etcd's benchmark --conns (default: one per client)
  --duration S      seconds of measured load (default 10)
  --warmup S        seconds of load before the measurement starts, not counted (default 5:
                    replicas start cold, and V8 needs a few thousand puts to optimize the path)
  --value-size B    bytes per value (default 64)
  --key-size B      bytes per key (default 16)
  --key-space K     distinct keys written (default 10000)
  --read-only       each client keeps one get outstanding instead of a put (a query: PBFT's
                    read-only path, Raft's read index or lease); the keys read are not written
  --settings JSON   protocol settings merged over the defaults, e.g. '{"maxInFlight":2}' for
                    pbft (docs/protocols/pbft.md lists them)
  --json            print the result as one JSON object on stdout (progress stays on stderr)
  --keep            keep the cluster folder (data and logs) and print its path
  --profile DIR     write a V8 CPU profile of each replica process into DIR (node --cpu-prof;
                    profile the load generator with: node --cpu-prof dist/cli/main.js bench)
  --help            this text`;

const protocols: readonly ProtocolName[] = ["raft", "pbft", "primary-backup", "single"];

/** `--arbiter`: the kind lockstep init writes by default (raft) unless told otherwise. */
function benchArbiterKind(raw: string | boolean | undefined): ArbiterKind {
  if (raw === undefined) return "raft";
  if (typeof raw === "string" && arbiterKinds.includes(raw as ArbiterKind))
    return raw as ArbiterKind;
  throw new UsageError(
    `bench: --arbiter must be raft (a 3-replica group) or single (one process), got ${JSON.stringify(raw)}`,
  );
}

export async function benchCommand(argv: readonly string[]): Promise<number> {
  const args = parseCommandArgs("bench", argv, {
    protocol: { type: "string" },
    replicas: { type: "string" },
    arbiter: { type: "string" },
    clients: { type: "string" },
    connections: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    "value-size": { type: "string" },
    "key-size": { type: "string" },
    "key-space": { type: "string" },
    "read-only": { type: "boolean" },
    settings: { type: "string" },
    json: { type: "boolean" },
    keep: { type: "boolean" },
    profile: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (args.help) {
    console.log(benchHelp);
    return 0;
  }
  const protocol = (args.protocol ?? "raft") as ProtocolName;
  if (typeof protocol !== "string" || !protocols.includes(protocol)) {
    throw new UsageError(
      `bench: --protocol must be one of ${protocols.join(", ")}, got "${String(protocol)}"`,
    );
  }
  if (args.arbiter !== undefined && protocol !== "primary-backup")
    throw new UsageError("bench: --arbiter is for --protocol primary-backup");
  const arbiterKind = protocol === "primary-backup" ? benchArbiterKind(args.arbiter) : undefined;
  const rule = replicaCountOf(protocol);
  if (!rule) throw new UsageError(`bench: protocol ${protocol} is not available in this build`);
  // The smallest cluster that tolerates a fault (or the only one, for a protocol that tolerates none).
  const smallest = rule.replicasFor(Math.min(1, rule.maxF ?? 1));
  const n = intOption("bench", "replicas", args.replicas, smallest, 1, 15);
  if (rule.maxF === 0 && n !== smallest)
    throw new UsageError(`bench: ${protocol} runs exactly one replica`);
  // A benchmark cluster has exactly n(f) replicas: one more would only add load, not tolerance.
  if (n < smallest || rule.replicasFor(rule.faultsTolerated(n)) !== n) {
    const sizes = [1, 2, 3].map((f) => rule.replicasFor(f)).join(", ");
    throw new UsageError(
      `bench: ${protocol} needs n(f) replicas (${sizes}, ...), at least ${smallest}; got ${n}`,
    );
  }
  const clients = intOption("bench", "clients", args.clients, 100, 1, 2000);
  const connections = intOption("bench", "connections", args.connections, clients, 1, clients);
  const durationS = intOption("bench", "duration", args.duration, 10, 1, 3600);
  const warmupS = intOption("bench", "warmup", args.warmup, 5, 0, 600);
  const valueSize = intOption("bench", "value-size", args["value-size"], 64, 1, 1_000_000);
  const keySize = intOption("bench", "key-size", args["key-size"], 16, 1, 1024);
  const keySpace = intOption("bench", "key-space", args["key-space"], 10_000, 1, 100_000_000);
  const json = args.json === true;
  const readOnly = args["read-only"] === true;
  let settings: { [key: string]: Value } = {};
  if (typeof args.settings === "string") {
    try {
      settings = JSON.parse(args.settings) as { [key: string]: Value };
    } catch (error) {
      throw new UsageError(`bench: --settings is not JSON: ${(error as Error).message}`);
    }
    if (settings === null || typeof settings !== "object" || Array.isArray(settings))
      throw new UsageError("bench: --settings must be a JSON object");
  }

  // Clients far beyond the default session limits would be refused; a bench opens C sessions.
  const base = await localClusterConfig(protocol, n, {
    sessions: { maxSessions: Math.max(100_000, clients * 4) },
  });
  const config = { ...base, settings: { ...base.settings, ...settings } };
  const settingsProblems = findProtocol(protocol).definition.validateSettings(config);
  if (settingsProblems.length > 0) {
    throw new UsageError(`bench: --settings: ${settingsProblems.join("; ")}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "lockstep-bench-"));
  const { folder, keys } = writeClusterFolder(dir, config);
  const arbiter =
    arbiterKind === undefined ? undefined : await startBenchArbiter(dir, config, arbiterKind);
  const cluster = new LocalCluster({
    config,
    configFile: folder.configFile,
    keyFile: folder.keyFile,
    dataDir: folder.dataDir,
    logLevel: "warn",
    // Ctrl-C reaches only this process, which then stops the replicas in order.
    detached: true,
    ...(typeof args.profile === "string"
      ? { nodeArgs: ["--cpu-prof", "--cpu-prof-dir", resolve(args.profile)] }
      : {}),
  });
  const stopOnSignal = () => {
    void Promise.all([cluster.stop(1_000), arbiter?.stop(1_000)]).then(() => {
      if (args.keep !== true) rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    cluster.startAll();
    const leader = await cluster.waitForLeader(20_000);
    log(
      `bench: ${n} ${protocol} replica(s) up, r${leader.replica} leads; ${clients} clients for ${durationS} s`,
    );
    // Counters are read when the measured window opens, so the warm-up does not count.
    let before: Promise<(ReplicaStatus | undefined)[]> | undefined;
    let clientCpuBefore = process.cpuUsage();
    const progress = progressPrinter(durationS);
    const result = await runPutLoad({
      clients,
      durationMs: durationS * 1000,
      warmupMs: warmupS * 1000,
      onMeasureStart: () => {
        before = countersOf(cluster);
        clientCpuBefore = process.cpuUsage();
      },
      keySize,
      valueSize,
      keySpace,
      open: sharedConnections(connections, async (i) => {
        const client = await connect({
          config,
          keys: clientKeyFile(keys, `bench${i}`),
          timeoutMs: 10_000,
        });
        return {
          put: readOnly
            ? async (key) => {
                await client.query({ op: "get", key });
              }
            : async (key, value) => {
                await client.invoke({ op: "put", key, value });
              },
          close: () => client.close(),
        };
      }),
      progressEveryMs: progress.everyMs,
      onProgress: progress.onProgress,
    });
    progress.clear();
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const after = await countersOf(cluster);
    const start = (await before) ?? [];
    const report: BenchReport = {
      system: `lockstep ${protocol}${readOnly ? " (read-only gets)" : ""}`,
      ...(arbiterKind && { arbiter: arbiterKind }),
      ...result,
      connections,
      valueSize,
      keySize,
      replicas: after.map((s, id) => replicaLine(id, start[id], s, result.ops)),
      clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
    };
    if (json) console.log(JSON.stringify(report));
    else console.log(formatBenchReport(report));
    return result.ops > 0 ? 0 : 1;
  } finally {
    process.removeListener("SIGINT", stopOnSignal);
    process.removeListener("SIGTERM", stopOnSignal);
    await cluster.stop();
    await arbiter?.stop();
    if (args.keep === true) log(`bench: cluster folder kept at ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Every replica's /status for the counters of the report. A replica that misses one read (a
 * keep-alive connection closing just as the request goes out, a stall on a loaded machine) is
 * asked once more, so one lost request does not make a running replica look down.
 */
async function countersOf(cluster: LocalCluster): Promise<(ReplicaStatus | undefined)[]> {
  const first = await cluster.statuses(5_000);
  if (first.every((s) => s !== undefined)) return first;
  return Promise.all(first.map((s, id) => s ?? cluster.status(id, 5_000)));
}

function replicaLine(
  id: number,
  before: ReplicaStatus | undefined,
  after: ReplicaStatus | undefined,
  ops: number,
): BenchReport["replicas"][number] {
  if (before === undefined || after === undefined) {
    return {
      id,
      role: "down",
      cpuSeconds: null,
      fsyncs: null,
      opsPerFsync: null,
      messagesOut: null,
      framesOut: null,
    };
  }
  const cpu = (s: ReplicaStatus) => s.process.cpuUserSeconds + s.process.cpuSystemSeconds;
  const fsyncs = after.storage.fsyncs - before.storage.fsyncs;
  return {
    id,
    role: after.role,
    cpuSeconds: cpu(after) - cpu(before),
    fsyncs,
    opsPerFsync: fsyncs === 0 ? null : ops / fsyncs,
    messagesOut: after.net.messagesOut - before.net.messagesOut,
    framesOut: after.net.framesOut - before.net.framesOut,
  };
}
