export type { History, Model, Operation } from "../../model/history.js";
export { checkLinearizability } from "./check.js";
export type {
  CheckOptions,
  CheckResult,
  Counterexample,
  PartitionResult,
  PartitionVerdict,
} from "./types.js";
