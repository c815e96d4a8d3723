import type { LogIndex } from "../../core/ids.js";
import type { RaftNode } from "./node.js";
import { startReadRound } from "./read-index.js";
import {
  answerAdminWaiters,
  maybePromoteLearner,
  stepDownIfRemoved,
  syncProgress,
} from "./reconfig.js";
import { maybeTakeSnapshot } from "./snapshot.js";

/** Everything that follows from the commit index moving forward, on any role. */
export function advanceCommit(n: RaftNode, index: LogIndex): void {
  n.setCommit(index);
  n.applyCommitted();
  maybeTakeSnapshot(n);
  answerAdminWaiters(n);
  if (n.role !== "leader") return;
  syncProgress(n);
  if (stepDownIfRemoved(n)) return;
  startReadRound(n);
  maybePromoteLearner(n);
}
