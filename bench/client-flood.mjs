#!/usr/bin/env node
// One authenticated client floods a 3-replica Raft cluster on 127.0.0.1 while another client
// does one put at a time; prints the quiet client's latency alone and under the flood, and what
// the flood got through. Run it with the per-client fairness limits on (default) and off
// (--limits off) to see what they change (docs/benchmarks.md, "One client flooding").
// Bounded: about 2 × --seconds of load plus startup; every replica is killed at the end.
// Usage: npm run build && node bench/client-flood.mjs [--limits on|off|outstanding=N,...] [--seconds 8]
//        [--flood-sessions 16] [--in-flight 128]
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import {
  clientKeyFile,
  connect,
  generateClusterKeys,
  replicaKeyFile,
  validateClusterConfig,
  writeKeyFile,
} from "../dist/index.js";

// The flooder runs in a worker thread: its own event loop (and core), so the quiet client's
// latency measures the cluster, not this process's event loop.
if (!isMainThread) {
  const { config, key, sessions, inFlight } = workerData;
  const flooders = [];
  for (let i = 0; i < sessions; i++)
    flooders.push(await connect({ config, keys: key, timeoutMs: 60_000 }));
  let done = 0;
  const failed = {};
  let flooding = true;
  parentPort.on("message", () => {
    flooding = false;
  });
  const timer = setInterval(() => parentPort.postMessage({ done, failed }), 250);
  const value = "v".repeat(100);
  await Promise.all(
    flooders.flatMap((c) =>
      Array.from({ length: inFlight }, async (_, j) => {
        while (flooding) {
          try {
            await c.invoke({ op: "put", key: `f${j % 64}`, value });
            done++;
          } catch (error) {
            failed[error.code] = (failed[error.code] ?? 0) + 1;
          }
        }
      }),
    ),
  );
  clearInterval(timer);
  await Promise.all(flooders.map((c) => c.close()));
  parentPort.postMessage({ done, failed, finished: true });
  process.exit(0);
}

const { values } = parseArgs({
  options: {
    limits: { type: "string", default: "on" },
    seconds: { type: "string", default: "8" },
    "flood-sessions": { type: "string", default: "16" },
    "in-flight": { type: "string", default: "128" },
  },
});
const seconds = Number(values.seconds);
const floodSessions = Number(values["flood-sessions"]);
const inFlight = Number(values["in-flight"]);
if (!(seconds > 0 && seconds <= 60)) {
  console.error(
    "usage: node bench/client-flood.mjs [--limits on|off|outstanding=N,...] [--seconds 1..60]",
  );
  process.exit(2);
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const replicaMain = path.join(root, "dist/runtime/replica-main.js");

async function freePorts(n) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = net.createServer();
    await new Promise((r) => s.listen(0, "127.0.0.1", r));
    servers.push(s);
  }
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (sorted, q) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (x) => (x === null ? null : Math.round(x * 100) / 100);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lockstep-flood-"));
const ports = await freePorts(6);
const raw = {
  protocol: "raft",
  f: 1,
  tickMs: 10,
  replicas: [0, 1, 2].map((id) => ({
    id,
    host: "127.0.0.1",
    port: ports[id],
    metricsPort: ports[3 + id],
  })),
  settings: {},
  clients: { defaultRole: "write", roles: {} },
};
const config = validateClusterConfig(raw);
fs.writeFileSync(path.join(dir, "cluster.json"), JSON.stringify(raw));
const keys = generateClusterKeys(3);
const children = [];
for (let id = 0; id < 3; id++) {
  writeKeyFile(path.join(dir, `r${id}.json`), replicaKeyFile(keys, id));
  const args = [
    replicaMain,
    "--config",
    path.join(dir, "cluster.json"),
    "--keys",
    path.join(dir, `r${id}.json`),
  ];
  args.push("--id", String(id), "--data", path.join(dir, `data-${id}`), "--log-level", "error");
  // "on": the replica's defaults; anything else goes to --client-limits as it is.
  if (values.limits !== "on") args.push("--client-limits", values.limits);
  children.push(spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] }));
}
const clients = [];
try {
  const victim = await connect({ config, keys: clientKeyFile(keys, "victim"), timeoutMs: 30_000 });
  clients.push(victim);
  await victim.invoke({ op: "put", key: "warm", value: "x" });

  /** One put at a time for `forMs`; returns sorted latencies in ms. */
  async function quietPuts(forMs) {
    const lat = [];
    const end = performance.now() + forMs;
    for (let i = 0; performance.now() < end; i++) {
      const t = performance.now();
      await victim.invoke({ op: "put", key: "quiet", value: String(i) });
      lat.push(performance.now() - t);
    }
    return lat.sort((a, b) => a - b);
  }

  const alone = await quietPuts(seconds * 1000);

  // The flood: one key ("flood"), many sessions, each keeping `inFlight` puts in flight.
  let flood = { done: 0, failed: {} };
  const worker = new Worker(fileURLToPath(import.meta.url), {
    workerData: { config, key: clientKeyFile(keys, "flood"), sessions: floodSessions, inFlight },
  });
  const finished = new Promise((resolve) => {
    worker.on("message", (m) => {
      flood = m;
      if (m.finished) resolve();
    });
    worker.on("error", resolve);
  });
  await sleep(1500);
  const doneBefore = flood.done;
  const underFlood = await quietPuts(seconds * 1000);
  const floodRate = (flood.done - doneBefore) / seconds;
  worker.postMessage("stop");
  await Promise.race([finished, sleep(15_000)]);
  await worker.terminate();
  const floodFailed = flood.failed;

  // What the leader refused, from its metrics.
  const refused = {};
  for (let id = 0; id < 3; id++) {
    const text = await fetch(`http://127.0.0.1:${ports[3 + id]}/metrics`)
      .then((r) => r.text())
      .catch(() => "");
    for (const line of text.split("\n")) {
      const m = /^lockstep_requests_refused_total\{[^}]*reason="([^"]+)"\} (\d+)/.exec(line);
      if (m) refused[m[1]] = (refused[m[1]] ?? 0) + Number(m[2]);
    }
  }
  console.log(
    JSON.stringify(
      {
        limits: values.limits,
        seconds,
        floodSessions,
        floodInFlightPerSession: inFlight,
        quietAlone: {
          puts: alone.length,
          p50Ms: ms(quantile(alone, 0.5)),
          p99Ms: ms(quantile(alone, 0.99)),
        },
        quietUnderFlood: {
          puts: underFlood.length,
          p50Ms: ms(quantile(underFlood, 0.5)),
          p99Ms: ms(quantile(underFlood, 0.99)),
          maxMs: ms(underFlood.at(-1) ?? null),
        },
        flood: { completedPerSecond: Math.round(floodRate), failed: floodFailed },
        refusedByReplicas: refused,
      },
      null,
      2,
    ),
  );
} finally {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  for (const c of children) c.kill("SIGKILL");
  await sleep(200);
  fs.rmSync(dir, { recursive: true, force: true });
}
