/**
 * Entry point: validate and normalize, split by P-compositionality (a history is linearizable
 * iff each independent sub-history is), search the parts in order under a deterministic step
 * budget, and combine verdicts.
 */
import type { HistoryEvent } from "../../model/events.js";
import type { History, Model } from "../../model/history.js";
import { buildEventList } from "./entries.js";
import { historyFromEvents } from "./events.js";
import { buildCounterexample } from "./explain.js";
import { searchLinearization } from "./search.js";
import type { CheckOptions, CheckResult, PartitionResult, PartitionVerdict } from "./types.js";
import { prepareHistory } from "./validate.js";

/**
 * The defaults, and why. They are counts, not times, so a verdict never depends on the machine.
 * Measured (30 raft seeds with kv, 10 each with counter and lock; about 100k operations): a
 * linearizable simulator history needs 1.3 to 6 steps per operation, at most 22k steps for one
 * partition and 22k for a whole check. A step costs 1 to 2.5 microseconds on a pathological
 * history (22 overlapping operations), so 2 million steps per partition give up there in a few
 * seconds with "unknown" while leaving about 100 times the simulator's need; 10 million for the
 * whole check bound it to tens of seconds however many partitions are hard. 1 million memoized
 * configurations (about 100 bytes each) bound the memo's memory for callers who raise the step
 * budgets; with the defaults the step budget runs out first.
 */
export const DEFAULT_CHECK_LIMITS = {
  maxSteps: 10_000_000,
  maxPartitionSteps: 2_000_000,
  maxVisited: 1_000_000,
} as const;

interface Limits {
  readonly maxSteps: number;
  readonly maxPartitionSteps: number;
  readonly maxVisited: number;
  readonly deadlineMs: number | undefined;
  readonly checkAllPartitions: boolean;
}

function count(name: string, given: number | undefined, fallback: number): number {
  if (given === undefined) return fallback;
  if (!(given >= 0) || !(Number.isInteger(given) || given === Number.POSITIVE_INFINITY)) {
    throw new RangeError(`check options: ${name} must be a non-negative integer, got ${given}`);
  }
  return given;
}

function resolveLimits(options: CheckOptions): Limits {
  const deadlineMs = options.deadlineMs;
  if (deadlineMs !== undefined && !(deadlineMs >= 0)) {
    throw new RangeError(`check options: deadlineMs must be >= 0, got ${deadlineMs}`);
  }
  return {
    maxSteps: count("maxSteps", options.maxSteps, DEFAULT_CHECK_LIMITS.maxSteps),
    maxPartitionSteps: count(
      "maxPartitionSteps",
      options.maxPartitionSteps,
      DEFAULT_CHECK_LIMITS.maxPartitionSteps,
    ),
    maxVisited: count("maxVisited", options.maxVisited, DEFAULT_CHECK_LIMITS.maxVisited),
    deadlineMs,
    checkAllPartitions: options.checkAllPartitions ?? false,
  };
}

function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  index: number,
  history: History<I, O>,
  maxSteps: number,
  maxVisited: number,
  deadline: number | undefined,
): PartitionResult<I, O> {
  const start = performance.now();
  const list = buildEventList(history);
  const outcome = searchLinearization(model, list, { maxSteps, maxVisited, deadline });
  const result: PartitionResult<I, O> = {
    index,
    verdict: outcome.kind,
    operations: history.length,
    visited: outcome.visited,
    steps: outcome.steps,
    elapsedMs: 0,
  };
  if (outcome.kind === "ok") result.witness = outcome.order;
  else if (outcome.kind === "unknown") result.unknownReason = outcome.reason;
  else {
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

/**
 * Checks a history of paired operations against a sequential model. Never throws for a hard
 * history: past its budget (`options`, DEFAULT_CHECK_LIMITS) a partition is "unknown". Throws
 * RangeError for a malformed history or option.
 */
export function checkLinearizability<S, I, O>(
  model: Model<S, I, O>,
  history: History<I, O>,
  options: CheckOptions = {},
): CheckResult<I, O> {
  const start = performance.now();
  const limits = resolveLimits(options);
  const deadline = limits.deadlineMs === undefined ? undefined : start + limits.deadlineMs;
  const prepared = prepareHistory(history);
  const parts = model.partition ? model.partition(prepared) : [prepared];
  const partitions: PartitionResult<I, O>[] = [];
  let steps = 0;
  let skippedPartitions = 0;
  let violated = false;
  parts.forEach((part, index) => {
    if (violated && !limits.checkAllPartitions) {
      skippedPartitions++;
      return;
    }
    // Each partition gets its own budget, cut to what the whole check has left.
    const budget = Math.min(limits.maxPartitionSteps, limits.maxSteps - steps);
    const result = checkPartition(model, index, part, budget, limits.maxVisited, deadline);
    steps += result.steps;
    if (result.verdict === "violation") violated = true;
    partitions.push(result);
  });
  const verdict = combine(partitions.map((p) => p.verdict));
  const result: CheckResult<I, O> = {
    verdict,
    partitions,
    skippedPartitions,
    operations: history.length,
    steps,
    elapsedMs: performance.now() - start,
  };
  if (verdict === "unknown") {
    result.unknownReason = partitions.find((p) => p.verdict === "unknown")!.unknownReason!;
  }
  return result;
}

/**
 * Checks a Jepsen/Porcupine-style log of invoke/ok/fail/info events (src/model/events.ts):
 * converts it with historyFromEvents, then checks as checkLinearizability does. Operation ids
 * in the result are the events' ids, or 0, 1, 2... in invoke order when they have none.
 */
export function checkEventHistory<S, I, O>(
  model: Model<S, I, O>,
  events: readonly HistoryEvent<I, O>[],
  options: CheckOptions = {},
): CheckResult<I, O> {
  return checkLinearizability(model, historyFromEvents(events), options);
}
