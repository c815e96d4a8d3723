import type { SimOptions } from "./options.js";
import type { SimResult, SimStats } from "./simulation.js";

/** What a run reports back to the seed runner (small enough to pass between threads). */
export interface SeedSummary {
  readonly options: SimOptions;
  readonly ok: boolean;
  readonly violations: readonly string[];
  readonly traceHash: string;
  readonly stats: SimStats;
  readonly checkedOperations: number;
  readonly checkMs: number;
  readonly verdict: string;
}

export function summarize(result: SimResult): SeedSummary {
  return {
    options: result.options,
    ok: result.ok,
    violations: result.violations,
    traceHash: result.traceHash,
    stats: result.stats,
    checkedOperations: result.linearizability?.operations ?? 0,
    checkMs: result.linearizability?.elapsedMs ?? 0,
    verdict: result.linearizability?.verdict ?? "not checked (no model)",
  };
}
