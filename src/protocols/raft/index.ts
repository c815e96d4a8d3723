import { clientReplySchema, clientRequestSchema } from "../../core/client-messages.js";
import { createLeaderClient } from "../../core/leader-client.js";
import type { ProtocolDefinition } from "../../core/protocol.js";
import { RaftCore } from "./core.js";
import { type RaftWire, raftPeerMessageSchema } from "./messages.js";
import type { RaftPlantedBug } from "./types.js";

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
    replicasFor: (f) => 2 * f + 1,
    schemas: {
      peer: raftPeerMessageSchema,
      request: clientRequestSchema,
      response: clientReplySchema,
    },
    createReplica: (replica) => new RaftCore(replica, options.plantedBug),
    createClient: (client) => createLeaderClient(client),
  };
}

export const raftProtocol: ProtocolDefinition<RaftWire> = createRaftProtocol();
