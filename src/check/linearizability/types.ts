import type { Operation } from "../../model/history.js";

export interface CheckOptions {
  /** Wall-clock budget per partition; past it the partition is "unknown". Default 10_000. */
  timeLimitMs?: number;
  /** Optional cap on memoized search states per partition; past it the partition is "unknown". */
  maxVisited?: number;
}

/** "unknown" means the search gave up (time or state budget) before either proving or refuting. */
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
  elapsedMs: number;
  /** Present iff verdict is "violation". */
  counterexample?: Counterexample<I, O>;
}

export interface CheckResult<I, O> {
  /** "violation" if any partition violates, else "unknown" if any is unknown, else "ok". */
  verdict: PartitionVerdict;
  partitions: PartitionResult<I, O>[];
  operations: number;
  elapsedMs: number;
}
