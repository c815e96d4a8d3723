import { accessPayload } from "../../core/access.js";
import type { AdminRequest, ReplyResult } from "../../core/client-messages.js";
import type { AppliedAdmin } from "../../core/replicated-service.js";
import type { RaftNode } from "./node.js";
import { appendAsLeader, broadcastAppend } from "./replication.js";
import { flushBatch } from "./sessions.js";

/**
 * Access changes (core/access.ts: setRole, revoke, rotate) on a leader: unlike membership changes
 * they are service state, so the leader logs them as `access` entries, the replicated service
 * applies them in log order (checking the asker's role again), and the replica that took the
 * request answers it with the service's result. The caller has already checked the asker's role.
 */
export function handleAccessChange(n: RaftNode, msg: AdminRequest): void {
  const { client, aid } = msg;
  const answer = (result: ReplyResult): void =>
    n.reply(client, { type: "adminReply", client, aid, result });
  if (n.role !== "leader") {
    answer(n.notLeader());
    return;
  }
  if (n.transfer) {
    answer({ ok: false, error: "busy", message: "leadership transfer in progress" });
    return;
  }
  if (n.accessWaiters.full) {
    answer({ ok: false, error: "busy", message: "too many access changes waiting" });
    return;
  }
  const change = msg.admin;
  if (change.op !== "setRole" && change.op !== "revoke" && change.op !== "rotate") return;
  // Commands that arrived first are logged first: their apply-time check sees the access they
  // were admitted with.
  flushBatch(n);
  appendAsLeader(n, accessPayload({ by: client, aid, change }));
  broadcastAppend(n);
  n.accessWaiters.add(client, aid);
}

/** Answers the access changes this replica took, now that the service applied them. */
export function answerAppliedAccess(n: RaftNode, results: readonly AppliedAdmin[]): void {
  for (const r of results) {
    if (!n.accessWaiters.take(r.client, r.aid)) continue;
    n.reply(r.client, { type: "adminReply", client: r.client, aid: r.aid, result: r.result });
  }
}

/** Waiters whose entry was lost with a leadership change are forgotten; the client retries. */
export function tickAccessWaiters(n: RaftNode): void {
  n.accessWaiters.tick(4 * n.settings.electionTicks);
}
