import type { ServiceDefinition } from "../../core/state-machine.js";
import { validationMessage } from "../shared/fields.js";
import { parseCounterCommand, parseCounterQuery } from "./parse.js";
import { CounterStateMachine } from "./state-machine.js";
import type { CounterCommand, CounterQuery, CounterQueryResult, CounterResult } from "./types.js";

export const counterService: ServiceDefinition<
  CounterCommand,
  CounterResult,
  CounterQuery,
  CounterQueryResult
> = {
  name: "counter",
  create: () => new CounterStateMachine(),
  validateCommand: (cmd) => validationMessage(() => parseCounterCommand(cmd)),
  validateQuery: (q) => validationMessage(() => parseCounterQuery(q)),
};
