/**
 * Entry point: validate, split by P-compositionality (a history is linearizable iff each
 * independent sub-history is), search each part under its own budget, and combine verdicts.
 */
import type { History, Model } from "../../model/history.js";
import { buildEventList } from "./entries.js";
import { buildCounterexample } from "./explain.js";
import { searchLinearization } from "./search.js";
import type { CheckOptions, CheckResult, PartitionResult, PartitionVerdict } from "./types.js";
import { validateHistory } from "./validate.js";

const DEFAULT_TIME_LIMIT_MS = 10_000;

function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  index: number,
  history: History<I, O>,
  options: CheckOptions,
): PartitionResult<I, O> {
  const start = performance.now();
  const list = buildEventList(history);
  const outcome = searchLinearization(model, list, {
    deadline: start + (options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS),
    maxVisited: options.maxVisited ?? Number.POSITIVE_INFINITY,
  });
  const result: PartitionResult<I, O> = {
    index,
    verdict: outcome.kind,
    operations: history.length,
    visited: outcome.visited,
    elapsedMs: 0,
  };
  if (outcome.kind === "violation") {
    result.counterexample = buildCounterexample(
      model,
      index,
      history.length,
      outcome.linearized,
      outcome.stuckAt,
      outcome.state,
    );
  }
  result.elapsedMs = performance.now() - start;
  return result;
}

function combine(verdicts: readonly PartitionVerdict[]): PartitionVerdict {
  if (verdicts.includes("violation")) return "violation";
  if (verdicts.includes("unknown")) return "unknown";
  return "ok";
}

export function checkLinearizability<S, I, O>(
  model: Model<S, I, O>,
  history: History<I, O>,
  options: CheckOptions = {},
): CheckResult<I, O> {
  const start = performance.now();
  validateHistory(history);
  const parts = model.partition ? model.partition(history) : [history];
  // Every partition is checked even after a violation: callers report all of them.
  const partitions = parts.map((part, index) => checkPartition(model, index, part, options));
  return {
    verdict: combine(partitions.map((p) => p.verdict)),
    partitions,
    operations: history.length,
    elapsedMs: performance.now() - start,
  };
}
