import type { ServiceDefinition } from "../../core/state-machine.js";
import { validationMessage } from "../shared/fields.js";
import { parseArbiterCommand, parseArbiterQuery } from "./parse.js";
import { ArbiterStateMachine } from "./state-machine.js";
import type { ArbiterCommand, ArbiterQuery, ArbiterResult } from "./types.js";

export const arbiterService: ServiceDefinition<
  ArbiterCommand,
  ArbiterResult,
  ArbiterQuery,
  ArbiterResult
> = {
  name: "arbiter",
  create: () => new ArbiterStateMachine(),
  validateCommand: (cmd) => validationMessage(() => parseArbiterCommand(cmd)),
  validateQuery: (q) => validationMessage(() => parseArbiterQuery(q)),
};
