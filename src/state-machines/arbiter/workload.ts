import type { Random } from "../../core/prng.js";
import type { ClientOperation } from "../service-kit.js";
import { checkCount, pickWeighted } from "../shared/workload.js";

export interface ArbiterWorkloadOptions {
  /** Epochs claimed are 1..epochs (few, so claims contend). Default 8. */
  readonly epochs?: number;
  /** Replicas that claim (ids 0..replicas-1). Default 3. */
  readonly replicas?: number;
}

/** 60% claims, 20% winner reads through the log, 20% winner queries, over a few epochs. */
export function createArbiterWorkload(
  options: ArbiterWorkloadOptions = {},
): (random: Random, client: number) => ClientOperation {
  const epochs = checkCount("epochs", options.epochs ?? 8, 1, 1_000_000);
  const replicas = checkCount("replicas", options.replicas ?? 3, 1, 1024);
  const choices = [
    ["claim", 0.6],
    ["read", 0.2],
    ["query", 0.2],
  ] as const;
  return (random): ClientOperation => {
    const epoch = 1 + random.int(epochs);
    switch (pickWeighted(random, choices)) {
      case "claim":
        return { kind: "command", value: { op: "claim", epoch, replica: random.int(replicas) } };
      case "read":
        return { kind: "command", value: { op: "winner", epoch } };
      case "query":
        return { kind: "query", value: { op: "winner", epoch } };
    }
  };
}
