export { describeArbiterOperation } from "./describe.js";
export { type ArbiterKitOptions, createArbiterKit } from "./kit.js";
export { type ArbiterModelState, arbiterModel } from "./model.js";
export { parseArbiterCommand, parseArbiterOperation, parseArbiterQuery } from "./parse.js";
export { arbiterService } from "./service.js";
export { decodeArbiterSnapshot, encodeArbiterSnapshot } from "./snapshot.js";
export { ArbiterStateMachine } from "./state-machine.js";
export {
  ARBITER_KEPT_EPOCHS,
  ARBITER_MAX_EPOCH,
  ARBITER_MAX_REPLICA,
  type ArbiterClaim,
  type ArbiterCommand,
  type ArbiterQuery,
  type ArbiterResult,
  type ArbiterWinnerRead,
} from "./types.js";
export { ArbiterWinners } from "./winners.js";
export { type ArbiterWorkloadOptions, createArbiterWorkload } from "./workload.js";
