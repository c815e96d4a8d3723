export { describeCounterOperation } from "./describe.js";
export { type CounterKitOptions, counterKit, createCounterKit } from "./kit.js";
export { type CounterModelState, counterModel } from "./model.js";
export { parseCounterCommand, parseCounterOperation, parseCounterQuery } from "./parse.js";
export { counterService } from "./service.js";
export { decodeCounterSnapshot, encodeCounterSnapshot } from "./snapshot.js";
export { CounterStateMachine } from "./state-machine.js";
export {
  COUNTER_MAX_DELTA,
  type CounterAdd,
  type CounterCommand,
  type CounterOverflow,
  type CounterQuery,
  type CounterQueryResult,
  type CounterRead,
  type CounterResult,
  type CounterValue,
} from "./types.js";
export { type CounterWorkloadOptions, createCounterWorkload } from "./workload.js";
