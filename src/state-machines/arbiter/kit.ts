import type { ServiceKit } from "../service-kit.js";
import { type ArbiterModelState, arbiterModel } from "./model.js";
import { arbiterService } from "./service.js";
import { type ArbiterWorkloadOptions, createArbiterWorkload } from "./workload.js";

export type ArbiterKitOptions = ArbiterWorkloadOptions;

export function createArbiterKit(options: ArbiterKitOptions = {}): ServiceKit<ArbiterModelState> {
  return {
    definition: arbiterService,
    model: arbiterModel,
    nextOperation: createArbiterWorkload(options),
  };
}
