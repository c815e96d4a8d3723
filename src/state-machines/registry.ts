import { createArbiterKit } from "./arbiter/index.js";
import { createCounterKit } from "./counter/index.js";
import { createKvKit } from "./kv/index.js";
import { createLockKit } from "./lock/index.js";
import type { ServiceKit } from "./service-kit.js";

// Factories, not shared kits: a kit's workload keeps counters, and every simulated run must
// start from the same state for its seed to replay.
const factories: Record<string, () => ServiceKit> = {
  kv: () => createKvKit({}) as ServiceKit,
  counter: () => createCounterKit({}) as ServiceKit,
  lock: () => createLockKit({}) as ServiceKit,
  arbiter: () => createArbiterKit({}) as ServiceKit,
};

export const serviceNames: readonly string[] = Object.keys(factories);

/** A fresh kit (definition, model, workload) for the named service. */
export function createServiceKit(name: string): ServiceKit {
  const factory = factories[name];
  if (!factory) throw new Error(`unknown service "${name}"; known: ${serviceNames.join(", ")}`);
  return factory();
}
