export type {
  FailEvent,
  HistoryEvent,
  InfoEvent,
  InvokeEvent,
  OkEvent,
  ProcessName,
} from "../../model/events.js";
export type { History, Model, Operation } from "../../model/history.js";
export { checkEventHistory, checkLinearizability, DEFAULT_CHECK_LIMITS } from "./check.js";
export { historyFromEvents } from "./events.js";
export type {
  CheckOptions,
  CheckResult,
  Counterexample,
  PartitionResult,
  PartitionVerdict,
  UnknownReason,
} from "./types.js";
