// Simulator and checker speed, one thread, printed as a table. Run after `npm run build`:
//   node bench/sim-speed.mjs [seeds] [protocol...]

import { defaultSimOptions } from "../dist/sim/options.js";
import { runSimulation } from "../dist/sim/simulation.js";

const seeds = Number(process.argv[2] ?? 20);
const protocols = process.argv.length > 3 ? process.argv.slice(3) : ["single"];
const rows = [];
for (const protocol of protocols) {
  // Warm up the JIT so the first seed's compile time is not counted.
  runSimulation({ ...defaultSimOptions, protocol, seed: 999_999, duration: 2 });
  let simulatedMs = 0,
    wallMs = 0,
    events = 0,
    ops = 0,
    checkMs = 0,
    messages = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runSimulation({ ...defaultSimOptions, protocol, seed });
    simulatedMs += r.stats.simulatedMs;
    wallMs += r.stats.elapsedMs;
    events += r.stats.events;
    messages += r.stats.messagesSent;
    ops += r.linearizability.operations;
    checkMs += r.linearizability.elapsedMs;
  }
  rows.push({
    protocol,
    seeds,
    "simulated s": (simulatedMs / 1000).toFixed(0),
    "wall s": (wallMs / 1000).toFixed(1),
    "simulated s / wall s": (simulatedMs / wallMs).toFixed(0),
    "events / s": Math.round(events / (wallMs / 1000)),
    "messages / s": Math.round(messages / (wallMs / 1000)),
    "ops checked": ops,
    "checker ops / s": Math.round(ops / (checkMs / 1000)),
  });
}
console.table(rows);
