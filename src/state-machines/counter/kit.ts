import type { ServiceKit } from "../service-kit.js";
import { type CounterModelState, counterModel } from "./model.js";
import { counterService } from "./service.js";
import { type CounterWorkloadOptions, createCounterWorkload } from "./workload.js";

export type CounterKitOptions = CounterWorkloadOptions;

export function createCounterKit(options: CounterKitOptions = {}): ServiceKit<CounterModelState> {
  return {
    definition: counterService,
    model: counterModel,
    nextOperation: createCounterWorkload(options),
  };
}

/** Deltas ±1..5, 70% adds, 20% read queries, 10% reads through the log. */
export const counterKit: ServiceKit<CounterModelState> = createCounterKit();
