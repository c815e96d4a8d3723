import type { ServiceKit } from "../service-kit.js";
import { type LockModelState, lockModel } from "./model.js";
import { lockService } from "./service.js";
import { createLockWorkload, type LockWorkloadOptions } from "./workload.js";

export type LockKitOptions = LockWorkloadOptions;

export function createLockKit(options: LockKitOptions = {}): ServiceKit<LockModelState> {
  return { definition: lockService, model: lockModel, nextOperation: createLockWorkload(options) };
}

/** 4 owners, ttls of 10/30/100 ms, 45% acquires, 25% releases, 30% holder queries. */
export const lockKit: ServiceKit<LockModelState> = createLockKit();
