import type { ProtocolDefinition } from "../../core/protocol.js";
import { createPbftClient } from "./client.js";
import {
  pbftDurableRules,
  pbftReplicaCount,
  pbftReplyQuorums,
  pbftStatus,
  validatePbftSettings,
} from "./contract.js";
import { PbftCore } from "./core.js";
import { pbftReplicaMessageSchema, pbftReplySchema, pbftRequestSchema } from "./messages.js";
import type { PbftPlantedBug } from "./planted-bugs.js";
import type { PbftWire } from "./wire.js";

export { PbftClient } from "./client.js";
export { PbftCore } from "./core.js";
export { type PbftPlantedBug, pbftPlantedBugs } from "./planted-bugs.js";
export { defaultPbftSettings, type PbftSettings, parsePbftSettings } from "./settings.js";
export type { PbftOp, PbftWire } from "./wire.js";

/** Bugs that live in the client core; the others live in the replica core. */
const clientBugs: readonly PbftPlantedBug[] = ["client-accepts-first-reply"];

export function createPbftProtocol(
  options: { plantedBug?: PbftPlantedBug } = {},
): ProtocolDefinition<PbftWire> {
  const bug = options.plantedBug;
  const clientBug = bug && clientBugs.includes(bug) ? bug : undefined;
  const replicaBug = bug && !clientBugs.includes(bug) ? bug : undefined;
  return {
    name: "pbft",
    replicaCount: pbftReplicaCount,
    schemas: {
      peer: pbftReplicaMessageSchema,
      request: pbftRequestSchema,
      response: pbftReplySchema,
    },
    durableRules: pbftDurableRules,
    status: pbftStatus,
    replyQuorums: pbftReplyQuorums,
    validateSettings: validatePbftSettings,
    createReplica: (replica) => new PbftCore(replica, replicaBug),
    createClient: (client) => createPbftClient(client, clientBug),
  };
}
