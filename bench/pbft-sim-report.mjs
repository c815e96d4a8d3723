// PBFT in the simulator: Aardvark's slow-primary attack and the liveness bound. Run after
// `npm run build`:
//   node bench/pbft-sim-report.mjs [seeds] [liveness seeds]
//
// 1. Slow primary (Amir et al./Clement et al., Aardvark, NSDI'09): the same seeds (same settings,
//    workload and network), once with every replica correct and once with replica 0, the first
//    primary, holding every pre-prepare back 8–15 ticks (just under the backups' request timeout
//    of 20–80 ticks, so no view change removes it). No faults besides it; 8 clients; throughput =
//    operations completed per simulated second of load.
// 2. Liveness bound: CI's PBFT configuration (4 replicas, all fault kinds, f = 1 Byzantine replica
//    in 60% of the seeds, a faulty client in 30%), measured from the moment the faults stop
//    (network healed, every replica up): until every pending operation completed, and until
//    every correct replica is in one view with no view change in progress. Max and p99 over seeds.

import { byzantine } from "../dist/protocols/pbft/adversary.js";
import { findProtocol, registerProtocol } from "../dist/protocols/registry.js";
import { defaultSimOptions } from "../dist/sim/options.js";
import { runSimulation } from "../dist/sim/simulation.js";

const seeds = Number(process.argv[2] ?? 20);
const livenessSeeds = Number(process.argv[3] ?? 100);
const pbft = findProtocol("pbft");

// Both variants draw the same numbers up to the adversary's choice (pick draws nothing), so a
// seed runs the same settings, workload and network with and without the slow primary.
for (const [name, faulty] of [
  ["pbft-report-correct", []],
  ["pbft-report-slow-primary", [0]],
]) {
  registerProtocol({
    ...pbft,
    name,
    description: `${pbft.description} (report variant)`,
    adversary: {
      pick: () => faulty,
      wrap: (core, random, crypto) => byzantine(core, "slow-primary", random, crypto),
    },
  });
}

const load = { ...defaultSimOptions, clients: 8, duration: 5, faults: [] };
const rows = [];
for (const protocol of ["pbft-report-correct", "pbft-report-slow-primary"]) {
  let ops = 0;
  let loadS = 0;
  const perSeed = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runSimulation({ ...load, protocol, seed });
    if (!r.ok) console.error(`${protocol} seed ${seed}: ${r.violations.join("; ")}`);
    // Operations that finished during the load (the liveness phase only drains what is pending).
    const done = r.history.filter((op) => op.ret !== undefined && op.ret <= load.duration * 1e6);
    ops += done.length;
    loadS += load.duration;
    perSeed.push(done.length / load.duration);
  }
  perSeed.sort((a, b) => a - b);
  rows.push({
    variant: protocol.replace("pbft-report-", ""),
    seeds,
    "ops / simulated s (mean)": (ops / loadS).toFixed(0),
    "min seed": perSeed[0].toFixed(0),
    "median seed": perSeed[Math.floor(perSeed.length / 2)].toFixed(0),
  });
}
console.log(`Slow primary: ${load.clients} clients, ${load.duration} s of load, no other faults`);
console.table(rows);

const quantile = (xs, q) => xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
const liveness = [];
const settled = [];
let failed = 0;
for (let seed = 1; seed <= livenessSeeds; seed++) {
  const r = runSimulation({
    ...defaultSimOptions,
    protocol: "pbft",
    seed,
    clients: 3,
    duration: 1,
    faultyClient: true,
  });
  if (!r.ok) failed++;
  if (r.stats.livenessMs >= 0) liveness.push(r.stats.livenessMs);
  if (r.stats.settledEpochMs >= 0) settled.push(r.stats.settledEpochMs);
}
liveness.sort((a, b) => a - b);
settled.sort((a, b) => a - b);
console.log(
  `Liveness bound: ${livenessSeeds} seeds of CI's pbft run (4 replicas, all faults, Byzantine replicas and clients), ${failed} failed`,
);
console.table([
  {
    "measured from faults stop": "every pending operation completed",
    seeds: liveness.length,
    "p50 ms": quantile(liveness, 0.5)?.toFixed(0),
    "p99 ms": quantile(liveness, 0.99)?.toFixed(0),
    "max ms": liveness.at(-1)?.toFixed(0),
  },
  {
    "measured from faults stop": "one view at every correct replica, no view change",
    seeds: settled.length,
    "p50 ms": quantile(settled, 0.5)?.toFixed(0),
    "p99 ms": quantile(settled, 0.99)?.toFixed(0),
    "max ms": settled.at(-1)?.toFixed(0),
  },
]);
