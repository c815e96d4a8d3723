import type { Random } from "../../core/prng.js";
import type { ClientOperation } from "../service-kit.js";
import { checkCount, checkRatio, pickWeighted } from "../shared/workload.js";
import { COUNTER_MAX_DELTA } from "./types.js";

export interface CounterWorkloadOptions {
  /** Largest |delta|; deltas are 1..maxDelta, a fifth of them negative. Default 5. */
  readonly maxDelta?: number;
  /** Fraction of operations that are read-only queries. Default 0.2. */
  readonly queryRatio?: number;
  /** Fraction of operations that are reads through the log. Default 0.1. */
  readonly readRatio?: number;
}

/**
 * Builds `nextOperation` for the counter kit: mostly adds. Deltas are never 0, so every add
 * moves the counter and a duplicated one is visible. Stateless: everything comes from `random`.
 */
export function createCounterWorkload(
  options: CounterWorkloadOptions = {},
): (random: Random, client: number) => ClientOperation {
  const maxDelta = checkCount("maxDelta", options.maxDelta ?? 5, 1, COUNTER_MAX_DELTA);
  const queryRatio = checkRatio("queryRatio", options.queryRatio ?? 0.2);
  const readRatio = checkRatio("readRatio", options.readRatio ?? 0.1);
  if (queryRatio + readRatio > 1) {
    throw new RangeError(`queryRatio + readRatio must be at most 1, got ${queryRatio + readRatio}`);
  }
  const choices = [
    ["add", 1 - queryRatio - readRatio],
    ["query", queryRatio],
    ["read", readRatio],
  ] as const;

  return (random): ClientOperation => {
    switch (pickWeighted(random, choices)) {
      case "query":
        return { kind: "query", value: { op: "read" } };
      case "read":
        return { kind: "command", value: { op: "read" } };
      case "add": {
        const magnitude = 1 + random.int(maxDelta);
        const delta = random.chance(0.2) ? -magnitude : magnitude;
        return { kind: "command", value: { op: "add", delta } };
      }
    }
  };
}
