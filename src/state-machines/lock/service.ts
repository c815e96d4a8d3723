import type { ServiceDefinition } from "../../core/state-machine.js";
import { validationMessage } from "../shared/fields.js";
import { parseLockCommand, parseLockQuery } from "./parse.js";
import { LockStateMachine } from "./state-machine.js";
import type { LockCommand, LockQuery, LockQueryResult, LockResult } from "./types.js";

export const lockService: ServiceDefinition<LockCommand, LockResult, LockQuery, LockQueryResult> = {
  name: "lock",
  create: () => new LockStateMachine(),
  validateCommand: (cmd) => validationMessage(() => parseLockCommand(cmd)),
  validateQuery: (q) => validationMessage(() => parseLockQuery(q)),
};
