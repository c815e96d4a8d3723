import type { ProtocolDefinition } from "../../core/protocol.js";
import { trustOneReply } from "../../core/reply-voter.js";
import { createPrimaryBackupClient } from "./client.js";
import { pbClientReplySchema, pbClientRequestSchema } from "./client-messages.js";
import {
  primaryBackupDurableRules,
  primaryBackupReplicaCount,
  primaryBackupStatus,
  validatePrimaryBackupSettings,
} from "./contract.js";
import { PrimaryBackupCore } from "./core.js";
import { type PrimaryBackupWire, primaryBackupPeerSchema } from "./messages.js";
import type { PrimaryBackupPlantedBug } from "./planted-bugs.js";

export { MemoryArbiter } from "./arbiter.js";
export { createPrimaryBackupClient, PrimaryBackupClient } from "./client.js";
export {
  type PbClientReply,
  type PbClientRequest,
  pbClientReplySchema,
  pbClientRequestSchema,
} from "./client-messages.js";
export {
  primaryBackupDurableRules,
  primaryBackupReplicaCount,
  primaryBackupStatus,
  validatePrimaryBackupSettings,
} from "./contract.js";
export { PrimaryBackupCore, type PrimaryBackupRole, primaryBackupRoles } from "./core.js";
export type { PbHardState } from "./hard-state.js";
export {
  type AckMessage,
  type AppendMessage,
  type ArbiterAnswer,
  type ArbiterRequest,
  arbiterAnswerSchema,
  arbiterRequestSchema,
  type Epoch,
  type PrimaryBackupMessage,
  type PrimaryBackupWire,
  primaryBackupMessageLimits,
  primaryBackupPeerSchema,
  type SnapshotMessage,
} from "./messages.js";
export { type PrimaryBackupPlantedBug, primaryBackupPlantedBugs } from "./planted-bugs.js";
export {
  type AckOn,
  defaultPrimaryBackupSettings,
  type PrimaryBackupSettings,
  parsePrimaryBackupSettings,
} from "./settings.js";

export interface PrimaryBackupProtocolOptions {
  /** Run a deliberately broken variant (for showing that the simulator catches it). */
  readonly plantedBug?: PrimaryBackupPlantedBug;
}

/**
 * Primary/backup in the style of VMware FT (Scales et al. 2010) for fail-stop faults: a primary
 * and a backup (f+1 replicas) plus a test-and-set arbiter tolerate one failure.
 */
export function createPrimaryBackupProtocol(
  options: PrimaryBackupProtocolOptions = {},
): ProtocolDefinition<PrimaryBackupWire> {
  return {
    name: "primary-backup",
    replicaCount: primaryBackupReplicaCount,
    schemas: {
      peer: primaryBackupPeerSchema,
      request: pbClientRequestSchema,
      response: pbClientReplySchema,
    },
    durableRules: primaryBackupDurableRules,
    status: primaryBackupStatus,
    replyQuorums: trustOneReply,
    validateSettings: validatePrimaryBackupSettings,
    createReplica: (replica) => new PrimaryBackupCore(replica, options.plantedBug),
    createClient: (client) => createPrimaryBackupClient(client),
  };
}

export const primaryBackupProtocol: ProtocolDefinition<PrimaryBackupWire> =
  createPrimaryBackupProtocol();
