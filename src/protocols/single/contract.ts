import type { ClusterConfig } from "../../core/config.js";
import type { DurableRules, ReplicaCountRule, StatusDeclaration } from "../../core/protocol.js";
import { parseSingleSettings } from "./settings.js";

/** What `single` declares to the contract (see core/protocol.ts ProtocolDefinition). */

/** Exactly one replica; it tolerates no fault. */
export const singleReplicaCount: ReplicaCountRule = {
  replicasFor: () => 1,
  faultsTolerated: () => 0,
  maxF: 0,
};

/**
 * A single replica's log is gap-free and every stored entry is committed (nobody can overwrite
 * it), so any stored entry at a lost snapshot's index vouches for everything before it.
 */
export const singleDurableRules: DurableRules = {
  gapFree: true,
  logCoversSnapshot: (meta, entry) => entry !== undefined && entry.index === meta.index,
};

/** Always the leader of its one-member group, never campaigning, no membership. */
export const singleStatus: StatusDeclaration = {
  roles: ["leader"],
  epochName: "term",
  leads: () => true,
  campaigning: () => false,
  members: () => undefined,
};

export function validateSingleSettings(config: ClusterConfig): readonly string[] {
  const problems: string[] = [];
  if (config.replicas.length !== 1) problems.push("single: exactly one replica");
  try {
    parseSingleSettings(config.settings);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return problems;
}
