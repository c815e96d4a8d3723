import type { Operation } from "../../model/history.js";
import type { UnknownReason } from "./search.js";

export type { UnknownReason };

/**
 * How much search a check may spend. The budget is counted in search steps (one step tries
 * one candidate operation or undoes one choice), so a verdict, including "unknown", is the same
 * on every machine and every run. See DEFAULT_CHECK_LIMITS for the defaults and why.
 */
export interface CheckOptions {
  /** Steps for the whole check, shared by the partitions in order. Default 10_000_000. */
  maxSteps?: number;
  /** Steps one partition may spend, so one hard partition cannot starve the rest. Default 2_000_000. */
  maxPartitionSteps?: number;
  /**
   * Memoized (linearized set, model state) configurations one partition may hold; bounds the
   * checker's memory (roughly 100 bytes each). Default 1_000_000.
   */
  maxVisited?: number;
  /**
   * Optional wall-clock safety net for the whole check, in milliseconds; off by default. When it
   * fires the verdict is "unknown" with reason "deadline", which depends on the machine: the
   * simulator never sets it, so its verdicts replay bit for bit.
   */
  deadlineMs?: number;
  /**
   * Search every partition even after one is found violating (to report all of them). Default
   * false: a violation anywhere decides the verdict, so the rest are skipped.
   */
  checkAllPartitions?: boolean;
}

/** "unknown" means the search gave up (its step, memory or optional time budget) before either proving or refuting. */
export type PartitionVerdict = "ok" | "violation" | "unknown";

export interface Counterexample<I, O> {
  /** The longest linearizable prefix order that the search found (op ids in linearization order). */
  linearized: number[];
  /** The operations that could not be linearized next at the deepest point (candidates that all failed). */
  stuckAt: Operation<I, O>[];
  /** A readable multi-line explanation using model.describe. */
  explanation: string;
}

export interface PartitionResult<I, O> {
  /** Position of the partition in the list `model.partition` returned (0 when unpartitioned). */
  index: number;
  verdict: PartitionVerdict;
  operations: number;
  /** Distinct (linearized set, model state) configurations the search explored. */
  visited: number;
  /** Search steps spent (deterministic; what the budget counts). */
  steps: number;
  /** Wall-clock time spent: for information only, never part of a verdict. */
  elapsedMs: number;
  /** Present iff verdict is "ok": op ids in a linearization order. Indeterminate operations
   *  listed took effect at their place; those not listed never took effect. */
  witness?: number[];
  /** Present iff verdict is "violation". */
  counterexample?: Counterexample<I, O>;
  /** Present iff verdict is "unknown": which budget ran out. */
  unknownReason?: UnknownReason;
}

export interface CheckResult<I, O> {
  /** "violation" if any partition violates, else "unknown" if any is unknown, else "ok". */
  verdict: PartitionVerdict;
  /** The partitions searched, in the order `model.partition` returned them. */
  partitions: PartitionResult<I, O>[];
  /** Partitions not searched because another was already found violating (0 unless verdict is "violation"). */
  skippedPartitions: number;
  operations: number;
  /** Search steps spent over all partitions. */
  steps: number;
  /** For "unknown": the reason of the first partition that gave up. */
  unknownReason?: UnknownReason;
  elapsedMs: number;
}
