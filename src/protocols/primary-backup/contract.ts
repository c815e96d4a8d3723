import type { ClusterConfig } from "../../core/config.js";
import type { LogEntry } from "../../core/log-entry.js";
import type {
  CoreStatus,
  DurableRules,
  ReplicaCountRule,
  SnapshotMeta,
  StatusDeclaration,
} from "../../core/protocol.js";
import { primaryBackupRoles } from "./core.js";
import { parsePrimaryBackupSettings } from "./settings.js";
import { snapshotEpoch } from "./snapshot-meta.js";

/** What primary/backup declares to the contract (core/protocol.ts ProtocolDefinition). */

/** f+1 replicas (a primary and a backup) plus an arbiter tolerate f = 1 fail-stop fault. */
export const primaryBackupReplicaCount: ReplicaCountRule = {
  replicasFor: (f) => f + 1,
  faultsTolerated: (n) => Math.max(0, Math.min(1, n - 1)),
  maxF: 1,
  extra: "an arbiter (test-and-set)",
};

/**
 * The log is gap-free, and one primary per epoch makes (index, epoch) name one entry, so an
 * entry with a lost snapshot's index and epoch vouches for everything the snapshot covered.
 */
export const primaryBackupDurableRules: DurableRules = {
  gapFree: true,
  logCoversSnapshot(meta: SnapshotMeta, entry: LogEntry | undefined): boolean {
    return entry !== undefined && entry.index === meta.index && entry.term === snapshotEpoch(meta);
  },
};

/** The live primary leads; a replica asking the arbiter campaigns; no membership. */
export const primaryBackupStatus: StatusDeclaration = {
  roles: primaryBackupRoles,
  epochName: "epoch",
  leads: (s: CoreStatus) => s.role === "primary",
  campaigning: (s: CoreStatus) => s.role === "campaigning",
  redundant: (s: CoreStatus) => {
    const details = s.details as { pairedWith?: unknown; backupLag?: unknown } | undefined;
    return s.role === "primary" && details?.pairedWith != null && details.backupLag === 0;
  },
  members: () => undefined,
};

export function validatePrimaryBackupSettings(config: ClusterConfig): readonly string[] {
  const problems: string[] = [];
  if (config.replicas.length < 1) problems.push("primary-backup: at least one replica");
  try {
    parsePrimaryBackupSettings(config.settings);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return problems;
}
