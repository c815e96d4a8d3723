#!/usr/bin/env node
// The etcd half of bench/etcd.sh: runs the put-load driver that `lockstep bench` uses
// (dist/bench/put-load.js) against a running etcd cluster and prints one JSON object on stdout in
// the shape of `lockstep bench --json`, with progress on stderr.
//
// Usage (after `npm run build`):
//   node bench/etcd-load.mjs --endpoints 127.0.0.1:23790,127.0.0.1:23792,127.0.0.1:23794 \
//     [--pids P1,P2,P3] [--clients 100] [--duration 10] [--key-size 16] [--value-size 64] \
//     [--key-space 10000] [--warmup 5] [--connections K] [--client grpc-js|http2]
//   node bench/etcd-load.mjs --endpoints ... --check-ready
//     exits 0 when every member is healthy and one of them leads, 3 when not yet (etcd.sh polls it)
//
// Endpoints are etcd client URLs without the scheme; etcd serves gRPC, /health, /version and
// /metrics on the same port. --pids are the members' process ids in endpoint order, for CPU time;
// without them CPU is reported as null. --client picks the gRPC transport (bench/etcd-client.mjs):
// grpc-js (default) or bare node:http2.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { progressPrinter } from "../dist/bench/progress-line.js";
import { runPutLoad, sharedConnections } from "../dist/bench/put-load.js";
import { openEtcdPutClient } from "./etcd-client.mjs";

const usage =
  "usage: node bench/etcd-load.mjs --endpoints HOST:PORT,... [--pids P,...] [--clients C] " +
  "[--duration S] [--warmup S] [--key-size B] [--value-size B] [--key-space K] " +
  "[--connections K] [--client grpc-js|http2] " +
  "[--check-ready]";

function fail(message, code = 2) {
  console.error(`etcd-load: ${message}`);
  process.exit(code);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      endpoints: { type: "string" },
      pids: { type: "string" },
      clients: { type: "string", default: "100" },
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "5" },
      connections: { type: "string" },
      "key-size": { type: "string", default: "16" },
      "value-size": { type: "string", default: "64" },
      "key-space": { type: "string", default: "10000" },
      client: { type: "string", default: "grpc-js" },
      "check-ready": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (error) {
  fail(`${error.message}\n${usage}`);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}
const int = (name, min, max) => {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < min || value > max)
    fail(`--${name} must be an integer in ${min}..${max}, got "${args[name]}"`);
  return value;
};
const endpoints = (args.endpoints ?? "").split(",").filter((e) => e !== "");
if (endpoints.length === 0) fail(`--endpoints is required\n${usage}`);
const pids = args.pids === undefined ? [] : args.pids.split(",").map(Number);
if (args.pids !== undefined && (pids.length !== endpoints.length || !pids.every((p) => p > 0)))
  fail("--pids must list one process id per endpoint, in the same order");
const clients = int("clients", 1, 10_000);
const durationS = int("duration", 1, 3600);
const warmupS = int("warmup", 0, 600);
if (args.connections === undefined) args.connections = String(clients);
const connections = int("connections", 1, clients);
const keySize = int("key-size", 1, 1024);
const valueSize = int("value-size", 1, 1_000_000);
const keySpace = int("key-space", 1, 100_000_000);
const transport = args.client;
if (transport !== "grpc-js" && transport !== "http2")
  fail(`--client must be grpc-js or http2, got "${transport}"`);

const log = (line) => process.stderr.write(`${line}\n`);

async function httpGet(endpoint, path) {
  const response = await fetch(`http://${endpoint}${path}`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${path} on ${endpoint}: HTTP ${response.status}`);
  return response.text();
}

/** The value of an unlabelled Prometheus sample (`name value`), or null when absent. */
function metric(text, name) {
  const line = text.match(new RegExp(`^${name} (\\S+)$`, "m"));
  return line ? Number(line[1]) : null;
}

/**
 * What etcd reports per member. WAL fsyncs are the counterpart of lockstep's WAL fdatasyncs (one
 * per Raft Ready batch that carries entries or a new hard state); backend commits are bbolt
 * transactions, which etcd batches every 100 ms or 10,000 writes and also fsyncs.
 */
async function memberMetrics(endpoint) {
  const text = await httpGet(endpoint, "/metrics");
  const get = (name) => {
    const value = metric(text, name);
    if (value === null) throw new Error(`${endpoint}/metrics has no ${name}`);
    return value;
  };
  return {
    isLeader: get("etcd_server_is_leader") === 1,
    walFsyncs: get("etcd_disk_wal_fsync_duration_seconds_count"),
    backendCommits: get("etcd_disk_backend_commit_duration_seconds_count"),
    leaderChanges: get("etcd_server_leader_changes_seen_total"),
  };
}

const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100; // Linux's USER_HZ everywhere that matters
  }
})();

/** CPU seconds (user + system) a process has used, from /proc/PID/stat fields 14 and 15. */
function processCpuSeconds(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    fail(`no process ${pid} (from --pids): did an etcd member exit?`, 1);
  }
  // The command name (field 2) is in parentheses and may hold spaces; count fields after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Health and leader of every member; throws with the first problem found. */
async function clusterState() {
  const members = await Promise.all(
    endpoints.map(async (endpoint) => {
      const health = JSON.parse(await httpGet(endpoint, "/health"));
      if (health.health !== "true") throw new Error(`${endpoint} is not healthy`);
      return memberMetrics(endpoint);
    }),
  );
  const leaders = members.flatMap((m, i) => (m.isLeader ? [i] : []));
  if (leaders.length !== 1) throw new Error(`${leaders.length} members claim to lead`);
  return { members, leader: leaders[0] };
}

if (args["check-ready"]) {
  try {
    await clusterState();
    process.exit(0);
  } catch (error) {
    log(`etcd-load: not ready: ${error.cause?.message ?? error.message}`);
    process.exit(3);
  }
}

let version;
let before;
try {
  version = JSON.parse(await httpGet(endpoints[0], "/version")).etcdserver;
  before = await clusterState();
} catch (error) {
  fail(`etcd cluster not usable: ${error.cause?.message ?? error.message}`, 1);
}
const leaderEndpoint = endpoints[before.leader];
log(
  `etcd-load: etcd ${version}, ${endpoints.length} member(s), leader ${leaderEndpoint}; ${clients} ${transport} client${clients === 1 ? "" : "s"} for ${durationS} s after ${warmupS} s of warm-up`,
);

// Counters are read again when the measured window opens, so the warm-up does not count.
let start = Promise.resolve({ members: before.members, cpu: pids.map(processCpuSeconds) });
let clientCpuBefore = process.cpuUsage();
const progress = progressPrinter(durationS);
let result;
try {
  result = await runPutLoad({
    clients,
    durationMs: durationS * 1000,
    warmupMs: warmupS * 1000,
    onMeasureStart: () => {
      const cpu = pids.map(processCpuSeconds);
      clientCpuBefore = process.cpuUsage();
      start = Promise.all(endpoints.map(memberMetrics)).then((members) => ({ members, cpu }));
    },
    keySize,
    valueSize,
    keySpace,
    // Every client talks to the leader, as lockstep's clients do: a follower would forward the
    // proposal to the leader, adding a hop lockstep does not have.
    // --connections K: client i shares connection i mod K, like etcd's benchmark --conns.
    open: sharedConnections(connections, () => openEtcdPutClient(leaderEndpoint, { transport })),
    progressEveryMs: progress.everyMs,
    onProgress: progress.onProgress,
  });
} catch (error) {
  // runPutLoad leaves clients that did open connected when another fails to open; exit rather
  // than wait for their channels.
  progress.clear();
  fail(error.message, 1);
}
progress.clear();
const clientCpu = process.cpuUsage(clientCpuBefore);
const cpuAfter = pids.map(processCpuSeconds);
const after = await Promise.all(endpoints.map(memberMetrics)).catch((error) =>
  fail(`reading metrics after the load: ${error.cause?.message ?? error.message}`, 1),
);
const measuredFrom = await start.catch((error) =>
  fail(`reading metrics at the start: ${error.cause?.message ?? error.message}`, 1),
);
const leaderChanges = Math.max(
  ...after.map((m, i) => m.leaderChanges - before.members[i].leaderChanges),
);
if (leaderChanges > 0) log(`etcd-load: warning: the leader changed during the load`);

const report = {
  system: `etcd ${version}`,
  client: transport,
  ...result,
  connections,
  keySize,
  valueSize,
  replicas: endpoints.map((endpoint, id) => {
    const fsyncs = after[id].walFsyncs - measuredFrom.members[id].walFsyncs;
    return {
      id,
      endpoint,
      role: after[id].isLeader ? "leader" : "follower",
      cpuSeconds: pids.length > 0 ? cpuAfter[id] - measuredFrom.cpu[id] : null,
      fsyncs,
      opsPerFsync: fsyncs === 0 ? null : result.ops / fsyncs,
      backendCommits: after[id].backendCommits - measuredFrom.members[id].backendCommits,
    };
  }),
  clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
  leaderChanges,
};
const l = result.latencyMs;
log(
  `etcd-load: ${result.ops} puts, ${result.errors} errors, ${result.opsPerSecond.toFixed(0)} puts/s` +
    (l ? `, p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms` : ""),
);
console.log(JSON.stringify(report));
process.exit(result.ops > 0 ? 0 : 1);
