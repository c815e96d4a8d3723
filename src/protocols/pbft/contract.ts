import type { ClusterConfig } from "../../core/config.js";
import {
  type CoreStatus,
  noLogRules,
  type ReplicaCountRule,
  type ReplyQuorums,
  type StatusDeclaration,
} from "../../core/protocol.js";
import { isPlainObject } from "../../core/schema.js";
import { faultsTolerated, replicasFor } from "./quorum.js";
import { parsePbftSettings } from "./settings.js";

/** What PBFT declares to the contract (core/protocol.ts ProtocolDefinition). */

/** 3f+1 replicas tolerate f Byzantine ones. */
export const pbftReplicaCount: ReplicaCountRule = { replicasFor, faultsTolerated };

/**
 * PBFT keeps no log on disk (records and checkpoint snapshots instead), so storage has no log
 * rules to apply and a lost snapshot cannot be stood in for.
 */
export const pbftDurableRules = noLogRules;

/**
 * f+1 matching replies for ordered requests, 2f+1 for read-only and tentative ones (the client
 * core also uses 2f+1 for ordered requests when read-only queries are on: see settings.ts).
 */
export const pbftReplyQuorums: ReplyQuorums = {
  ordered: (f) => f + 1,
  unordered: (f) => 2 * f + 1,
};

/** The primary of its view leads; a replica between views is changing who leads. */
export const pbftStatus: StatusDeclaration = {
  roles: ["primary", "backup", "view-change", "recovering", "spare"],
  epochName: "view",
  leads: (s: CoreStatus) => s.role === "primary",
  campaigning: (s: CoreStatus) => s.role === "view-change",
  members: (s: CoreStatus) => {
    const members = isPlainObject(s.details) ? s.details.members : undefined;
    if (!Array.isArray(members)) return undefined;
    return { voters: members.filter((m): m is number => typeof m === "number"), learners: [] };
  },
};

export function validatePbftSettings(config: ClusterConfig): readonly string[] {
  const problems: string[] = [];
  if (config.replicas.length < 4) {
    problems.push(
      `pbft: needs at least 4 replicas (3f+1 with f ≥ 1), got ${config.replicas.length}`,
    );
  }
  try {
    parsePbftSettings(config.settings, config.replicas.length);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return problems;
}
