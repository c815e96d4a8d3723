import { accessEntryKind, accessPayload, isAccessChange } from "../../core/access.js";
import { authorizationPayload, type MembershipOp } from "../../core/admin-authorization.js";
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
  if (!isAccessChange(change)) return;
  // Commands that arrived first are logged first: their apply-time check sees the access they
  // were admitted with.
  flushBatch(n);
  appendAsLeader(n, accessPayload({ by: client, aid, change }));
  broadcastAppend(n);
  n.accessWaiters.add(client, aid);
}

/**
 * Whether an access change lies in this replica's log above what the service has applied. If
 * none does, the access table at the next index is the applied one the driver read for the
 * request, so the check made when ordering is already the check at the entry's index and a
 * membership change needs no authorization entry (the common case, one round trip). If one
 * does, the asker may be demoted or revoked before its change's index: it must be authorized
 * by a logged entry checked when applied (requestAuthorization).
 */
export function accessChangePending(n: RaftNode): boolean {
  for (let i = Math.max(n.applied, n.log.offset) + 1; i <= n.log.lastIndex; i++) {
    const payload = n.log.entry(i)?.payload;
    if (payload?.type === "protocol" && payload.kind === accessEntryKind) return true;
  }
  return false;
}

/**
 * Logs the authorization of a membership change or transfer (core/admin-authorization.ts) that
 * passed the check when ordered: the service checks its asker again at the entry's index, and
 * only then does this leader carry it out (answerAppliedAccess returns it). The caller has
 * checked that this replica leads and that the operation is valid now.
 */
export function requestAuthorization(
  n: RaftNode,
  msg: AdminRequest & { admin: MembershipOp },
): void {
  const { client, aid } = msg;
  if (n.accessWaiters.full) {
    n.reply(client, {
      type: "adminReply",
      client,
      aid,
      result: { ok: false, error: "busy", message: "too many admin requests waiting" },
    });
    return;
  }
  flushBatch(n);
  appendAsLeader(n, authorizationPayload({ by: client, aid, op: msg.admin }));
  broadcastAppend(n);
  n.accessWaiters.add(client, aid, msg.admin);
}

/**
 * Answers the access changes this replica took, now that the service applied them, and returns
 * the membership changes and transfers whose authorization passed: the caller carries them out.
 * A refused authorization is answered with the service's `forbidden` here.
 */
export function answerAppliedAccess(n: RaftNode, results: readonly AppliedAdmin[]): AdminRequest[] {
  const approved: AdminRequest[] = [];
  for (const r of results) {
    const waiter = n.accessWaiters.take(r.client, r.aid);
    if (!waiter) continue;
    if (waiter.op && r.result.ok) {
      approved.push({ type: "admin", client: r.client, aid: r.aid, admin: waiter.op });
      continue;
    }
    n.reply(r.client, { type: "adminReply", client: r.client, aid: r.aid, result: r.result });
  }
  return approved;
}

/** Waiters whose entry was lost with a leadership change are forgotten; the client retries. */
export function tickAccessWaiters(n: RaftNode): void {
  n.accessWaiters.tick(4 * n.settings.electionTicks);
}
