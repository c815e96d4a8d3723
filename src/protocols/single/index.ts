import { clientReplySchema, clientRequestSchema } from "../../core/client-messages.js";
import { createLeaderClient } from "../../core/leader-client.js";
import type { ProtocolDefinition } from "../../core/protocol.js";
import { type Schema, SchemaError } from "../../core/schema.js";
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
    replicasFor: () => 1,
    schemas: { peer: noPeerMessages, request: clientRequestSchema, response: clientReplySchema },
    createReplica: (replica) => new SingleCore(replica, options.plantedBug),
    createClient: (client) => createLeaderClient(client),
  };
}

export const singleProtocol = createSingleProtocol();
