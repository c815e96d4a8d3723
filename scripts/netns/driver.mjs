// The client side of a partition run, started inside the clients' network namespace by
// scripts/netns-partitions.mjs: `node driver.mjs CONFIG CLUSTER_KEYS OUT_DIR`. It takes one
// JSON command per stdin line and answers one JSON line on stdout:
//   {"cmd":"status"}                 → {"statuses":[ReplicaStatus | {replica, error}]}
//   {"cmd":"start","clients":N,"timeoutMs":T,"keys":["a",...],"maxMs":M}
//                                    → {"started":true}; load runs until "stop" or M ms
//   {"cmd":"stop"}                   → {"stopped":true,"completed":…,"history":FILE}
//   {"cmd":"readback"}               → {"checked":n,"missing":[keys]} (unique-key writes)
//   {"cmd":"exit"}                   → exits
// Times are epoch milliseconds (performance.timeOrigin + performance.now()), comparable with
// the runner's event times on the same machine. It uses only the library's public client (dist/).
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const [configFile, clusterKeysFile, outDir] = process.argv.slice(2);
const dist = resolve(new URL("../../dist/", import.meta.url).pathname);
const lib = await import(pathToFileURL(join(dist, "index.js")).href);
const config = lib.validateClusterConfig(JSON.parse(readFileSync(configFile, "utf8")));
const clusterKeys = lib.readKeyFile(clusterKeysFile);
const now = () => performance.timeOrigin + performance.now();
// Every answer echoes the command's `seq`, so the runner matches answers to questions even after
// one of its waits timed out (a late answer then goes nowhere instead of to the next question).
let seq = null;
const reply = (x) => process.stdout.write(`${JSON.stringify({ ...x, seq })}\n`);

async function statuses() {
  return Promise.all(
    config.replicas.map(async (r) => {
      try {
        const response = await fetch(`http://${r.host}:${r.metricsPort}/status`, {
          signal: AbortSignal.timeout(500),
        });
        return await response.json();
      } catch (error) {
        return { replica: r.id, error: String(error?.cause?.code ?? error?.name ?? error) };
      }
    }),
  );
}

const history = [];
const acknowledged = new Map(); // unique key → value
let stopAt = 0;
let load;
let nextId = 1;

/** One client process: one operation at a time, recorded as the checker wants it. */
async function process1(index, options) {
  const name = `w${index}`;
  const keys = lib.clientKeyFile(clusterKeys, name);
  const client = await lib.connect({ config, keys, timeoutMs: options.timeoutMs });
  let incarnation = 0;
  const lastSeen = new Map();
  try {
    for (let n = 1; n <= 1_000_000 && now() < stopAt; n++) {
      const key = options.keys[Math.floor(Math.random() * options.keys.length)];
      const value = `${name}-${n}`;
      const roll = Math.random();
      let input;
      let unique;
      if (roll < 0.3) input = { kind: "command", value: { op: "put", key, value } };
      else if (roll < 0.45) input = { kind: "query", value: { op: "get", key } };
      else if (roll < 0.55) input = { kind: "command", value: { op: "get", key } };
      else if (roll < 0.8) {
        const expected = lastSeen.get(key) ?? null;
        input = { kind: "command", value: { op: "cas", key, expected, value } };
      } else {
        unique = `u-${name}-${n}`;
        input = { kind: "command", value: { op: "put", key: unique, value } };
      }
      const id = nextId++;
      const who = `${name}/${incarnation}`;
      const call = now();
      try {
        const output =
          input.kind === "command"
            ? await client.invoke(input.value)
            : await client.query(input.value);
        history.push({ id, client: who, input, call, ret: now(), output });
        if (unique) acknowledged.set(unique, value);
        if (typeof output?.value === "string" || output?.value === null) {
          lastSeen.set(key, output.value);
        } else if (input.value.op === "put" && !unique) lastSeen.set(key, value);
      } catch (error) {
        if (error instanceof lib.LockstepError && !error.indeterminate) continue;
        // Unknown outcome: it may take effect at any later time; go on as a new process.
        history.push({ id, client: who, input, call, ret: undefined, output: undefined });
        incarnation++;
      }
    }
  } finally {
    await client.close();
  }
}

async function readback() {
  const client = await lib.connect({
    config,
    keys: lib.clientKeyFile(clusterKeys, "reader"),
    timeoutMs: 5_000,
  });
  const missing = [];
  try {
    for (const [key, value] of acknowledged) {
      let read;
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          read = await client.query({ op: "get", key });
          break;
        } catch (error) {
          if (attempt === 4) throw error;
        }
      }
      if (read?.value !== value) missing.push(key);
    }
  } finally {
    await client.close();
  }
  return { checked: acknowledged.size, missing };
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  let command;
  try {
    command = JSON.parse(line);
    seq = command.seq ?? null;
  } catch {
    seq = null;
    reply({ error: `not JSON: ${line}` });
    continue;
  }
  try {
    switch (command.cmd) {
      case "status":
        reply({ statuses: await statuses() });
        break;
      case "start": {
        stopAt = now() + (command.maxMs ?? 600_000);
        load = Promise.all(Array.from({ length: command.clients }, (_, i) => process1(i, command)));
        reply({ started: true });
        break;
      }
      case "stop": {
        stopAt = 0;
        await load;
        const file = join(outDir, "history.json");
        writeFileSync(file, JSON.stringify(history));
        reply({ stopped: true, operations: history.length, history: file });
        break;
      }
      case "readback":
        reply(await readback());
        break;
      case "exit":
        reply({ exiting: true });
        process.exit(0);
        break;
      default:
        reply({ error: `unknown command ${command.cmd}` });
    }
  } catch (error) {
    reply({ error: String(error?.stack ?? error) });
  }
}
