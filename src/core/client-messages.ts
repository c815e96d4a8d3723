import type { ClientId, ReplicaId, Seq } from "./ids.js";
import { type Role, roles } from "./role.js";
import {
  int,
  literal,
  object,
  oneOf,
  optional,
  type Schema,
  str,
  tagged,
  value,
} from "./schema.js";
import type { Value } from "./value.js";

/**
 * The client protocol shared by the crash-fault protocols (single, raft, primary-backup).
 * PBFT extends these shapes with views and authenticators in its own message types.
 */

/** Why lockstep refused or could not complete a request. */
export type ErrorCode =
  /** The session is unknown (expired or never opened); the command was not executed now. */
  | "session-expired"
  /** The client already acknowledged this sequence number; its result is gone. */
  | "stale"
  /** This replica cannot order requests now; `leader` names who can, when known. */
  | "not-leader"
  /** The service rejected the command or query as malformed. */
  | "invalid"
  /** The session has too many unacknowledged commands. */
  | "too-many-outstanding"
  /** The state machine threw while applying; state changes it made before throwing remain. */
  | "apply-failed"
  /** The replica is overloaded; try again later. */
  | "busy"
  /** The client's role does not allow this request, or its key is revoked (core/access.ts). */
  | "forbidden";

export const errorCodes: readonly ErrorCode[] = [
  "session-expired",
  "stale",
  "not-leader",
  "invalid",
  "too-many-outstanding",
  "apply-failed",
  "busy",
  "forbidden",
];

export type ReplyResult =
  | { readonly ok: true; readonly value: Value }
  | {
      readonly ok: false;
      readonly error: ErrorCode;
      readonly message?: string;
      readonly leader?: ReplicaId;
      /** With `busy`: how long the replica asks the client to wait before it retries. */
      readonly retryAfterMs?: number;
    };

/**
 * A command request. `seq` 0 opens (registers) the session `client`; commands use seq ≥ 1.
 * `ackedBelow`: the client holds the results of every seq below it, so replicas may forget them.
 */
export interface CommandRequest {
  readonly type: "request";
  readonly client: ClientId;
  readonly seq: Seq;
  readonly ackedBelow: Seq;
  readonly cmd: Value;
}

export interface QueryRequest {
  readonly type: "query";
  readonly client: ClientId;
  readonly qid: number;
  readonly q: Value;
}

/** Operator requests: membership changes (Schneider's reconfiguration) and leadership transfer. */
export type AdminOp =
  /** Add a replica from the address book: it catches up as a non-voting learner, then votes. */
  | { readonly op: "add"; readonly replica: ReplicaId }
  /** Remove a replica from the voting membership (a faulty or retired one). */
  | { readonly op: "remove"; readonly replica: ReplicaId }
  /** Hand leadership to this replica. */
  | { readonly op: "transfer"; readonly to: ReplicaId }
  /** Give a client id a role (core/access.ts); logged, so every replica applies it in order. */
  | { readonly op: "setRole"; readonly client: ClientId; readonly role: Role }
  /** Refuse a client id from the index where this commits, until its key is rotated. */
  | { readonly op: "revoke"; readonly client: ClientId }
  /** Make key `version` (> the current one) the only key of a client id; clears a revocation. */
  | { readonly op: "rotate"; readonly client: ClientId; readonly version: number }
  /** The role of every client id without a role of its own (cluster.json's clients.defaultRole). */
  | { readonly op: "setDefaultRole"; readonly role: Role };

export interface AdminRequest {
  readonly type: "admin";
  readonly client: ClientId;
  readonly aid: number;
  readonly admin: AdminOp;
}

export type ClientRequestMessage = CommandRequest | QueryRequest | AdminRequest;

export interface CommandReply {
  readonly type: "reply";
  readonly client: ClientId;
  readonly seq: Seq;
  readonly result: ReplyResult;
}

export interface QueryReply {
  readonly type: "queryReply";
  readonly client: ClientId;
  readonly qid: number;
  readonly result: ReplyResult;
}

export interface AdminReply {
  readonly type: "adminReply";
  readonly client: ClientId;
  readonly aid: number;
  readonly result: ReplyResult;
}

export type ClientReplyMessage = CommandReply | QueryReply | AdminReply;

const clientId = str(64);
const seq = int(0);

export const replyResultSchema: Schema<ReplyResult> = {
  describe: "reply result",
  parse(x, path = "") {
    const r = x as { ok?: unknown };
    if (r && typeof r === "object" && r.ok === true) {
      return object({ ok: literal(true), value: value() }).parse(x, path) as ReplyResult;
    }
    return object({
      ok: literal(false),
      error: oneOf(errorCodes),
      message: optional(str(4096)),
      leader: optional(replicaId),
      retryAfterMs: optional(int(0, 60_000)),
    }).parse(x, path) as ReplyResult;
  },
};

const replicaId = int(0, 1023);

export const adminOpSchema: Schema<AdminOp> = {
  describe: "admin operation",
  parse(x, path = "") {
    const op = (x as { op?: unknown } | null)?.op;
    if (op === "transfer")
      return object({ op: literal("transfer"), to: replicaId }).parse(x, path) as AdminOp;
    if (op === "setRole")
      return object({ op: literal("setRole"), client: clientId, role: oneOf(roles) }).parse(
        x,
        path,
      ) as AdminOp;
    if (op === "setDefaultRole")
      return object({ op: literal("setDefaultRole"), role: oneOf(roles) }).parse(
        x,
        path,
      ) as AdminOp;
    if (op === "revoke")
      return object({ op: literal("revoke"), client: clientId }).parse(x, path) as AdminOp;
    if (op === "rotate")
      return object({ op: literal("rotate"), client: clientId, version: int(1) }).parse(
        x,
        path,
      ) as AdminOp;
    return object({ op: oneOf(["add", "remove"]), replica: replicaId }).parse(x, path) as AdminOp;
  },
};

export const clientRequestSchema: Schema<ClientRequestMessage> = tagged({
  request: { client: clientId, seq, ackedBelow: seq, cmd: value() },
  query: { client: clientId, qid: int(0), q: value() },
  admin: { client: clientId, aid: int(0), admin: adminOpSchema },
}) as Schema<ClientRequestMessage>;

export const clientReplySchema: Schema<ClientReplyMessage> = tagged({
  reply: { client: clientId, seq, result: replyResultSchema },
  queryReply: { client: clientId, qid: int(0), result: replyResultSchema },
  adminReply: { client: clientId, aid: int(0), result: replyResultSchema },
}) as Schema<ClientReplyMessage>;
