// Durable storage for replicas: write-ahead log, snapshots, recovery. See docs/storage.md.

export {
  type CommittedSnapshot,
  type RecoveryResult,
  type RecoverySource,
  recover,
  type SegmentInfo,
} from "../durable/recovery.js";
export type { RecoveryReport } from "../durable/recovery-report.js";
export {
  StorageClosedError,
  StorageCorruptionError,
  StorageFailedError,
  StorageLockedError,
} from "./errors.js";
export { FileStorage } from "./file-storage.js";
export type { StorageCounters, StorageStats } from "./stats.js";
export {
  defaultKeepSnapshots,
  defaultSegmentBytes,
  type Storage,
  type StorageOptions,
} from "./storage.js";
