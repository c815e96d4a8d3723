import type { ServiceKit } from "../service-kit.js";
import { type KvModelState, kvModel } from "./model.js";
import { kvService } from "./service.js";
import { createKvWorkload, type KvWorkloadOptions } from "./workload.js";

export type KvKitOptions = KvWorkloadOptions;

export function createKvKit(options: KvKitOptions = {}): ServiceKit<KvModelState> {
  return { definition: kvService, model: kvModel, nextOperation: createKvWorkload(options) };
}

/** 5 keys, 8-character values, a quarter of operations read-only queries. */
export const kvKit: ServiceKit<KvModelState> = createKvKit();
