/**
 * Deliberately broken PBFT variants (`pbft-bug-<name>` in `lockstep sim --list`). Each breaks one
 * rule of the protocol; CI proves the simulator, with its Byzantine adversary, catches every one
 * within 1000 seeds. A bug the simulator cannot catch is a hole in the evidence, not in the bug.
 */
export const pbftPlantedBugs = [
  /** Prepared with 2f−1 matching prepares instead of 2f. */
  "prepared-with-too-few-prepares",
  /** Committed-local with f+1 matching commits instead of 2f+1. */
  "committed-with-weak-quorum",
  /** A batch executes once prepared, before it is committed-local. */
  "execute-before-commit",
  /** Client signatures on requests are not checked (a faulty primary can forge or alter requests). */
  "request-signature-not-checked",
  /** A checkpoint becomes stable with f+1 matching CHECKPOINT messages instead of 2f+1. */
  "checkpoint-stable-with-weak-quorum",
  /** The new primary re-issues null requests instead of the prepared ones in NEW-VIEW. */
  "new-primary-drops-prepared",
  /** A backup installs NEW-VIEW without recomputing its pre-prepares from the view-changes. */
  "new-view-not-recomputed",
  /** VIEW-CHANGE leaves out the replica's prepared certificates. */
  "view-change-drops-certificates",
  /** The primary's proposed time is not checked by the backups. */
  "primary-time-not-checked",
  /** The client accepts the first reply it gets. */
  "client-accepts-first-reply",
  /**
   * A NEW-VIEW puts another batch (or the null request) at a slot this replica executed
   * tentatively, and the replica keeps the tentative effects instead of rolling them back.
   */
  "tentative-without-rollback",
  /**
   * A membership change takes effect at the next checkpoint after it executes instead of the
   * first one at or above s + L: slots the old members accepted before executing it lie above.
   */
  "reconfig-at-execution",
] as const;

export type PbftPlantedBug = (typeof pbftPlantedBugs)[number];
