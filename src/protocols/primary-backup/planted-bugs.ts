/**
 * Deliberately broken variants of primary/backup (`primary-backup-bug-<name>` in the registry).
 * Each is a mistake the paper's design exists to prevent; the simulator must catch every one.
 */
export const primaryBackupPlantedBugs = [
  /** The primary answers once its own write is durable, without waiting for the backup's ack. */
  "reply-before-backup-ack",
  /** A replica that suspects its peer goes live without winning the arbiter's test-and-set. */
  "go-live-without-arbiter",
  /** The new primary drops the received entries it had not applied yet instead of consuming them. */
  "go-live-before-consuming-log",
  /** A replica accepts log entries from the primary of an older epoch (and acks them). */
  "old-epoch-accepted",
  /** A live primary serves a client that has seen a newer epoch instead of stepping down. */
  "old-epoch-client-served",
  /** The backup acknowledges entries it did not keep (their predecessor did not match). */
  "ack-before-receipt",
  /** The backup stamps time and random seed itself instead of replaying the primary's values. */
  "recompute-nondeterminism-on-backup",
  /** A new backup takes the snapshot's position but not its state: replay starts from the wrong point. */
  "new-backup-wrong-start",
  /** A replica whose arbiter request timed out goes live anyway (so both may). */
  "both-live-after-arbiter-timeout",
  /** After a failover the new primary serves alone for good: it never takes a backup back. */
  "no-new-backup",
] as const;

export type PrimaryBackupPlantedBug = (typeof primaryBackupPlantedBugs)[number];
