import { clientReplySchema, clientRequestSchema } from "../../core/client-messages.js";
import { createLeaderClient } from "../../core/leader-client.js";
import type { ProtocolDefinition } from "../../core/protocol.js";
import { trustOneReply } from "../../core/reply-voter.js";
import { type Schema, SchemaError } from "../../core/schema.js";
import {
  singleDurableRules,
  singleReplicaCount,
  singleStatus,
  validateSingleSettings,
} from "./contract.js";
import { SingleCore, type SinglePlantedBug, type SingleWire } from "./core.js";

export { SingleCore, type SinglePlantedBug, type SingleWire } from "./core.js";
export { defaultSingleSettings, parseSingleSettings, type SingleSettings } from "./settings.js";

const noPeerMessages: Schema<never> = {
  describe: "nothing (a single replica has no peers)",
  parse(_x, path = "") {
    throw new SchemaError(path, "nothing (a single replica has no peers)");
  },
};

export function createSingleProtocol(
  options: { plantedBug?: SinglePlantedBug } = {},
): ProtocolDefinition<SingleWire> {
  return {
    name: "single",
    replicaCount: singleReplicaCount,
    schemas: { peer: noPeerMessages, request: clientRequestSchema, response: clientReplySchema },
    durableRules: singleDurableRules,
    status: singleStatus,
    replyQuorums: trustOneReply,
    validateSettings: validateSingleSettings,
    createReplica: (replica) => new SingleCore(replica, options.plantedBug),
    createClient: (client) => createLeaderClient(client),
  };
}

export const singleProtocol = createSingleProtocol();
