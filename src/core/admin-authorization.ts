import { type AccessTable, allows, forbidden } from "./access.js";
import type { AdminOp, ReplyResult } from "./client-messages.js";
import type { ClientId } from "./ids.js";
import type { EntryPayload } from "./log-entry.js";
import { isPlainObject } from "./schema.js";
import type { Value } from "./value.js";

/**
 * Authorization entries (issue 15): a membership change or leadership transfer a client asked
 * for is first logged as an `authorize` entry naming the asker, and the protocol core carries
 * it out only once the service has applied that entry and found the asker still admin at its
 * log index. A Raft config entry takes effect when appended, long before it is applied, so it
 * cannot be checked when applied itself; the entry in front of it can. A client demoted or
 * revoked by an entry ordered before its request is therefore refused `forbidden` even when
 * both were in the log before either was applied. The entry changes no replicated state.
 */

/** The admin operations a protocol core carries out itself (not service state). */
export type MembershipOp = AdminOp & { readonly op: "add" | "remove" | "transfer" };

export function isMembershipOp(op: AdminOp): op is MembershipOp {
  return op.op === "add" || op.op === "remove" || op.op === "transfer";
}

/** The `kind` of the protocol payload that carries an authorization in the log. */
export const authorizationEntryKind = "authorize";

/** Who asked (client id, checked at apply), its admin request id, and what it asked for. */
export interface AuthorizationEntry {
  readonly by: ClientId;
  readonly aid: number;
  readonly op: MembershipOp;
  /**
   * The asker's session acknowledgement (PBFT requests carry one): with it, the service answers
   * a repeat of the same request from the session table instead of authorizing it again, so a
   * change is carried out at most once even when a faulty primary orders an old request again.
   */
  readonly ackedBelow?: number;
}

export function authorizationPayload(entry: AuthorizationEntry): EntryPayload {
  return {
    type: "protocol",
    kind: authorizationEntryKind,
    body: {
      by: entry.by,
      aid: entry.aid,
      op: entry.op as unknown as Value,
      ...(entry.ackedBelow === undefined ? {} : { ackedBelow: entry.ackedBelow }),
    },
  };
}

const replicaNumber = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) >= 0;

/** The authorization an entry carries, if it carries a well-formed one. */
export function authorizationEntryOf(payload: EntryPayload): AuthorizationEntry | undefined {
  if (payload.type !== "protocol" || payload.kind !== authorizationEntryKind) return undefined;
  const body = payload.body;
  if (!isPlainObject(body) || typeof body.by !== "string" || typeof body.aid !== "number")
    return undefined;
  const op = body.op;
  if (!isPlainObject(op)) return undefined;
  const wellFormed =
    ((op.op === "add" || op.op === "remove") && replicaNumber(op.replica)) ||
    (op.op === "transfer" && replicaNumber(op.to));
  if (!wellFormed) return undefined;
  if (body.ackedBelow !== undefined && !replicaNumber(body.ackedBelow)) return undefined;
  return {
    by: body.by,
    aid: body.aid,
    op: op as unknown as MembershipOp,
    ...(body.ackedBelow === undefined ? {} : { ackedBelow: body.ackedBelow as number }),
  };
}

/**
 * The service's decision on an authorization, against the access table at the entry's index:
 * ok (the core may carry the operation out) or `forbidden`. Pure: every replica decides alike.
 */
export function authorize(table: AccessTable, entry: AuthorizationEntry): ReplyResult {
  const asker = table.accessOf(entry.by);
  if (asker.revoked || !allows(asker.role, "admin")) return forbidden(entry.by, asker, "admin");
  return { ok: true, value: null };
}
