import { protocolRegistry } from "../../protocols/registry.js";
import { defaultSimOptions } from "../../sim/options.js";
import { runSimulation } from "../../sim/simulation.js";

/**
 * `lockstep demo --simulated`: a replicated key-value store in the deterministic simulator under
 * crashes, partitions, lost and torn disk writes; prints the interesting part of the trace and
 * what the checkers concluded. No processes, no ports, no files: the same seed gives the same run.
 */
export function simulatedDemo(seed: number): number {
  const protocol = protocolRegistry().some((p) => p.name === "raft") ? "raft" : "single";
  const result = runSimulation({ ...defaultSimOptions, protocol, seed }, true);
  const interesting = result.trace.filter((line) => /crash|start|partition|faults stop/.test(line));
  for (const line of interesting.slice(0, 60)) console.log(`  ${line}`);
  const s = result.stats;
  console.log(
    `\n${protocol}: ${s.operations} operations (${s.completed} ok, ${s.indeterminate} unknown), ${s.crashes} crashes ` +
      `(${s.machineCrashes} lost unsynced writes, ${s.tornTails} torn tails), ${s.partitions} partitions, ${s.pauses} pauses`,
  );
  console.log(
    `linearizability: ${result.linearizability?.verdict ?? "not checked"} over ${result.linearizability?.operations ?? 0} operations`,
  );
  console.log(
    result.ok
      ? "all safety and liveness checks passed"
      : `VIOLATIONS:\n${result.violations.join("\n")}`,
  );
  return result.ok ? 0 : 1;
}
