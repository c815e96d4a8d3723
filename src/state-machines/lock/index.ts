export { describeLockOperation } from "./describe.js";
export { createLockKit, type LockKitOptions, lockKit } from "./kit.js";
export { type LockModelState, lockModel } from "./model.js";
export { parseLockCommand, parseLockOperation, parseLockQuery } from "./parse.js";
export { lockService } from "./service.js";
export { decodeLockSnapshot, encodeLockSnapshot, type LockState } from "./snapshot.js";
export { LockStateMachine } from "./state-machine.js";
export {
  LOCK_MAX_OWNER_LENGTH,
  LOCK_MAX_TTL_MS,
  type LockAcquire,
  type LockAcquireResult,
  type LockCommand,
  type LockGranted,
  type LockQuery,
  type LockQueryResult,
  type LockRefused,
  type LockRelease,
  type LockReleaseResult,
  type LockResult,
} from "./types.js";
export { createLockWorkload, type LockWorkloadOptions } from "./workload.js";
