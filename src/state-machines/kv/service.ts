import type { ServiceDefinition } from "../../core/state-machine.js";
import { validationMessage } from "../shared/fields.js";
import { parseKvCommand, parseKvQuery } from "./parse.js";
import { KvStateMachine } from "./state-machine.js";
import type { KvCommand, KvQuery, KvQueryResult, KvResult } from "./types.js";

export const kvService: ServiceDefinition<KvCommand, KvResult, KvQuery, KvQueryResult> = {
  name: "kv",
  create: () => new KvStateMachine(),
  validateCommand: (cmd) => validationMessage(() => parseKvCommand(cmd)),
  validateQuery: (q) => validationMessage(() => parseKvQuery(q)),
};
