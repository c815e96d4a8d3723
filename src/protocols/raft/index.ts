import { clientReplySchema, clientRequestSchema } from "../../core/client-messages.js";
import { createLeaderClient } from "../../core/leader-client.js";
import type { ProtocolDefinition } from "../../core/protocol.js";
import { trustOneReply } from "../../core/reply-voter.js";
import {
  raftDurableRules,
  raftReplicaCount,
  raftStatus,
  validateRaftSettings,
} from "./contract.js";
import { RaftCore } from "./core.js";
import { type RaftWire, raftPeerMessageSchema } from "./messages.js";
import type { RaftPlantedBug } from "./types.js";

export {
  raftDurableRules,
  raftReplicaCount,
  raftStatus,
  validateRaftSettings,
} from "./contract.js";
export { RaftCore } from "./core.js";
export type {
  AppendReply,
  AppendRequest,
  RaftMessage,
  RaftWire,
  SnapshotChunk,
  SnapshotReply,
  TimeoutNow,
  VoteReply,
  VoteRequest,
} from "./messages.js";
export { raftMessageLimits, raftPeerMessageSchema } from "./messages.js";
export { defaultRaftSettings, parseRaftSettings, type RaftSettings } from "./settings.js";
export { raftSnapshotMeta, snapshotTerm } from "./snapshot-meta.js";
export {
  type Membership,
  type RaftHardState,
  type RaftPlantedBug,
  type RaftStatusRole,
  raftPlantedBugs,
} from "./types.js";

export interface RaftProtocolOptions {
  /** Run a deliberately broken variant (for showing that the simulator catches it). */
  readonly plantedBug?: RaftPlantedBug;
}

/** Raft (Ongaro 2014) for crash faults: 2f + 1 replicas tolerate f crashes. */
export function createRaftProtocol(
  options: RaftProtocolOptions = {},
): ProtocolDefinition<RaftWire> {
  return {
    name: "raft",
    replicaCount: raftReplicaCount,
    schemas: {
      peer: raftPeerMessageSchema,
      request: clientRequestSchema,
      response: clientReplySchema,
    },
    durableRules: raftDurableRules,
    status: raftStatus,
    replyQuorums: trustOneReply,
    validateSettings: validateRaftSettings,
    createReplica: (replica) => new RaftCore(replica, options.plantedBug),
    createClient: (client) => createLeaderClient(client),
  };
}

export const raftProtocol: ProtocolDefinition<RaftWire> = createRaftProtocol();
