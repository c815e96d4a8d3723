#!/usr/bin/env node
// Prints etcd and lockstep bench results side by side. Input: the JSON objects that
// `bench/etcd-load.mjs` and `lockstep bench --json` print, one per file, for the same client
// counts; bench/etcd.sh writes them and calls this.
// Usage: node bench/compare.mjs RESULT.json...
import { readFileSync } from "node:fs";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node bench/compare.mjs RESULT.json...");
  process.exit(2);
}
function readReport(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    console.error(`compare: cannot read ${file}: ${error.message}`);
    process.exit(1);
  }
}
const reports = files.map(readReport);
const systems = [...new Set(reports.map((r) => r.system))];
const etcd = systems.find((s) => s.startsWith("etcd"));
const other = systems.find((s) => s !== etcd);
if (systems.length !== 2 || etcd === undefined) {
  console.error(`compare: need results of etcd and one other system, got: ${systems.join(", ")}`);
  process.exit(1);
}
const find = (system, clients) => reports.find((r) => r.system === system && r.clients === clients);
const clientCounts = [...new Set(reports.map((r) => r.clients))]
  .filter((c) => find(etcd, c) && find(other, c))
  .sort((a, b) => b - a);
if (clientCounts.length === 0) {
  console.error("compare: no client count was run on both systems");
  process.exit(1);
}

const leader = (r) => r.replicas.find((p) => p.role === "leader");
const followers = (r) => r.replicas.filter((p) => p !== leader(r));
const mean = (values) =>
  values.length === 0 || values.some((v) => v == null)
    ? null
    : values.reduce((a, b) => a + b, 0) / values.length;
/** CPU µs per acknowledged put, or null when a figure is missing (a replica that did not answer). */
const perPut = (seconds, r) => (seconds == null || r.ops === 0 ? null : (1e6 * seconds) / r.ops);
const clusterCpu = (r) => {
  const cpu = r.replicas.map((p) => p.cpuSeconds);
  return cpu.some((v) => v == null) ? null : cpu.reduce((a, b) => a + b, 0);
};

// A row: label, how to read a number off a report, digits, and which direction is better
// ("higher", "lower", or null when neither is: puts per fsync only says how much was batched).
const full = [
  ["puts/s", (r) => r.opsPerSecond, 0, "higher"],
  ["p50 ms", (r) => r.latencyMs?.p50, 2, "lower"],
  ["p90 ms", (r) => r.latencyMs?.p90, 2, "lower"],
  ["p99 ms", (r) => r.latencyMs?.p99, 2, "lower"],
  ["max ms", (r) => r.latencyMs?.max, 2, "lower"],
  ["errors", (r) => r.errors, 0, "lower"],
  ["leader CPU s", (r) => leader(r)?.cpuSeconds, 2, null],
  ["follower CPU s (mean)", (r) => mean(followers(r).map((p) => p.cpuSeconds)), 2, null],
  ["cluster CPU µs per put", (r) => perPut(clusterCpu(r), r), 0, "lower"],
  ["client CPU µs per put", (r) => perPut(r.clientCpuSeconds, r), 0, "lower"],
  ["puts per fsync, leader", (r) => leader(r)?.opsPerFsync, 1, null],
  ["puts per fsync, followers", (r) => mean(followers(r).map((p) => p.opsPerFsync)), 1, null],
];
const single = new Set([
  "puts/s",
  "p50 ms",
  "p99 ms",
  "errors",
  "cluster CPU µs per put",
  "puts per fsync, leader",
]);

const clientsLabel = (n) => `${n} client${n === 1 ? "" : "s"}`;
const number = (v, digits) =>
  v == null || !Number.isFinite(v)
    ? "-"
    : v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

const rows = [["", etcd, other, `${other.split(" ")[0]}/etcd`, "better"]];
for (const clients of clientCounts) {
  const a = find(etcd, clients);
  const b = find(other, clients);
  const conns = find(etcd, clients).connections;
  const shared = conns === clients ? "one connection each" : `on ${conns} connections`;
  rows.push([`${clientsLabel(clients)}, ${shared}`, "", "", "", ""]);
  for (const [label, read, digits, better] of full) {
    if (clients === 1 && !single.has(label)) continue;
    const x = read(a);
    const y = read(b);
    const ratio = x != null && y != null && x !== 0 ? y / x : null;
    let winner = "";
    if (better !== null && ratio !== null) {
      const otherAhead = better === "higher" ? ratio > 1 : ratio < 1;
      // Within 5% is a tie on a shared 2-vCPU machine.
      if (Math.abs(ratio - 1) <= 0.05) winner = "tie";
      else winner = otherAhead ? other.split(" ")[0] : "etcd";
    }
    rows.push([`  ${label}`, number(x, digits), number(y, digits), number(ratio, 2), winner]);
  }
}

const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
const first = reports[0];
console.log(
  `${other} vs ${etcd}: ${first.replicas.length} replicas on this machine, ` +
    `${first.keySize}-byte keys, ${first.valueSize}-byte values, ` +
    `${Math.round(first.elapsedSeconds)} s per run after ${first.warmupSeconds ?? 0} s of warm-up`,
);
const etcdClients = [...new Set(reports.filter((r) => r.system === etcd).map((r) => r.client))];
if (etcdClients.some((c) => c !== undefined))
  console.log(`etcd's load generator talks gRPC with ${etcdClients.join(" and ")}`);
console.log(
  `ratio = ${other.split(" ")[0]} ÷ etcd for every row; "better" names the winner ` +
    `(higher puts/s, lower latency and CPU per put; within 5% is a tie)\n`,
);
for (const row of rows) {
  console.log(
    row
      .map((cell, c) => (c === 0 || c === 4 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join("  ")
      .trimEnd(),
  );
}
for (const r of reports) {
  const kinds = Object.entries(r.errorKinds ?? {});
  if (kinds.length > 0)
    console.log(
      `\n${r.system}, ${clientsLabel(r.clients)}, errors: ${kinds.map(([k, v]) => `${k} ${v}`).join(", ")}`,
    );
  if (r.leaderChanges > 0)
    console.log(`\n${r.system}, ${clientsLabel(r.clients)}: the leader changed during the run`);
  const silent = r.replicas.filter((p) => p.cpuSeconds == null).map((p) => p.id);
  if (silent.length > 0)
    console.log(
      `\n${r.system}, ${clientsLabel(r.clients)}: no figures from replica(s) ${silent.join(", ")}` +
        " (did not answer the status request), so cluster totals are missing",
    );
}
