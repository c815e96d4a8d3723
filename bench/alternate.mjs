#!/usr/bin/env node
// Runs `lockstep bench --json` for several variants in turn, round after round, and prints each
// variant's median puts/s and latency percentiles over the rounds. On a shared machine the
// background load moves by the minute: alternating puts every variant in the same minutes, and
// the median ignores the one run a neighbour's burst spoiled (docs/benchmarks.md, "Primary/backup
// next to Raft"). Bounded: each run is killed after 120 s; runs one bench at a time.
// Usage: npm run build && node bench/alternate.mjs --clients C [--rounds 5] [--duration 8]
//          [--warmup 2] [--jsonl FILE] VARIANT...
// VARIANT: a protocol with optional bench arguments after a colon, comma-separated, e.g.
//   raft   primary-backup:--arbiter,single   primary-backup:--settings,{"ackOn":"receipt"}
// A variant may also run another build: DIR@raft runs DIR/dist/cli/main.js (a built checkout of
// an earlier commit, for a before/after in the same minutes).
import { spawnSync } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    clients: { type: "string" },
    rounds: { type: "string", default: "5" },
    duration: { type: "string", default: "8" },
    warmup: { type: "string", default: "2" },
    jsonl: { type: "string" },
  },
});
const int = (name, v, min) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`alternate: --${name} expects an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
};
if (values.clients === undefined || positionals.length === 0) {
  console.error("usage: node bench/alternate.mjs --clients C [--rounds N] VARIANT...");
  process.exit(2);
}
const clients = int("clients", values.clients, 1);
const rounds = int("rounds", values.rounds, 1);
const here = path.dirname(fileURLToPath(import.meta.url));
const ownMain = path.join(here, "..", "dist", "cli", "main.js");

const variants = positionals.map((v) => {
  const [where, rest] = v.includes("@") ? v.split(/@(.*)/s) : [undefined, v];
  const [protocol, extra] = rest.split(/:(.*)/s);
  return {
    name: v,
    main: where === undefined ? ownMain : path.resolve(where, "dist", "cli", "main.js"),
    args: [
      "bench",
      "--protocol",
      protocol,
      "--clients",
      String(clients),
      "--duration",
      values.duration,
      "--warmup",
      values.warmup,
      "--json",
      ...(extra ? extra.split(",") : []),
    ],
  };
});

const loadAverage = () => Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
const results = new Map(variants.map((v) => [v.name, []]));
for (let round = 1; round <= rounds; round++) {
  for (const v of variants) {
    const load = loadAverage();
    const run = spawnSync(process.execPath, [v.main, ...v.args], {
      encoding: "utf8",
      timeout: 120_000,
      killSignal: "SIGINT",
    });
    let report;
    try {
      report = JSON.parse(run.stdout.trim().split("\n").at(-1));
    } catch {
      console.error(
        `alternate: round ${round}, ${v.name}: no report (${run.stderr.trim().split("\n").at(-1)})`,
      );
      continue;
    }
    results.get(v.name).push({ load, report });
    if (values.jsonl)
      appendFileSync(values.jsonl, `${JSON.stringify({ round, variant: v.name, load, report })}\n`);
    const l = report.latencyMs;
    console.error(
      `round ${round} ${v.name}: ${report.opsPerSecond.toFixed(0)} puts/s, p50 ${l.p50.toFixed(2)} ms (load ${load})`,
    );
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
console.log(`${clients} client(s), ${rounds} round(s), medians`);
console.log("variant | runs | puts/s | p50 ms | p90 ms | p99 ms | load average");
for (const [name, rs] of results) {
  if (rs.length === 0) {
    console.log(`${name} | 0 | - | - | - | - | -`);
    continue;
  }
  const m = (f) => median(rs.map(f));
  console.log(
    [
      name,
      rs.length,
      m((r) => r.report.opsPerSecond).toFixed(0),
      m((r) => r.report.latencyMs.p50).toFixed(2),
      m((r) => r.report.latencyMs.p90).toFixed(2),
      m((r) => r.report.latencyMs.p99).toFixed(2),
      m((r) => r.load).toFixed(1),
    ].join(" | "),
  );
}
