import type {
  AdminOp,
  ClientReplyMessage,
  ClientRequestMessage,
  ReplyResult,
} from "./client-messages.js";
import type { ClientId } from "./ids.js";
import type { EntryPayload } from "./log-entry.js";
import { type Role, roles } from "./role.js";
import { isPlainObject } from "./schema.js";
import type { Value } from "./value.js";

/**
 * Who may do what (issue 15). Every client id has a role; roles, revocations and key versions
 * are replicated state (an AccessTable inside the ReplicatedService), changed only by ordered
 * admin requests (`setRole`, `revoke`, `rotate`) and carried in snapshots, so every replica
 * decides the same way. Protocol cores check a request against the access the driver read from
 * the applied state when they order it (`accessRefusal`), and the service checks again when it
 * applies it, against the state at that log index.
 */

export type { Role };
export { roles };

const rank: Record<Role, number> = { read: 0, write: 1, admin: 2 };

/** The initial roles, from the cluster configuration (`clients` in cluster.json). */
export interface AccessPolicy {
  /** The role of every client id not listed in `roles`. */
  readonly defaultRole: Role;
  readonly roles: { readonly [client: ClientId]: Role };
}

/**
 * The policy of a configuration without a `clients` section (written before roles existed):
 * every client is admin, as it was then. `lockstep init` writes a section (`cli` admin, others
 * write), and docs/net.md says how to add one to an older cluster.
 */
export const legacyAccessPolicy: AccessPolicy = { defaultRole: "admin", roles: {} };

/** What a client may do now, as a replica's applied state says. */
export interface ClientAccess {
  readonly role: Role;
  readonly revoked: boolean;
}

/** The admin operations that change access; they are logged, unlike membership changes. */
export type AccessChange = AdminOp & {
  readonly op: "setRole" | "revoke" | "rotate" | "setDefaultRole";
};

/** The access changes that concern one client id (all but setDefaultRole). */
export type ClientAccessChange = AccessChange & { readonly op: "setRole" | "revoke" | "rotate" };

export function isAccessChange(op: AdminOp): op is AccessChange {
  return (
    op.op === "setRole" || op.op === "revoke" || op.op === "rotate" || op.op === "setDefaultRole"
  );
}

/** The `kind` of the protocol payload that carries an access change in the log. */
export const accessEntryKind = "access";

/** An access change as logged: who asked (checked again at apply), its admin request id, what. */
export interface AccessEntry {
  readonly by: ClientId;
  readonly aid: number;
  readonly change: AccessChange;
  /**
   * Set when `aid` is a command number of the asker's session (PBFT, where an access change is
   * a client request like any other): the change then runs at most once, through the session
   * table, however often a retry is ordered again. Absent for Raft's admin request ids.
   */
  readonly ackedBelow?: number;
}

export function accessPayload(entry: AccessEntry): EntryPayload {
  const body: { [key: string]: Value } = {
    by: entry.by,
    aid: entry.aid,
    change: entry.change as unknown as Value,
  };
  if (entry.ackedBelow !== undefined) body.ackedBelow = entry.ackedBelow;
  return { type: "protocol", kind: accessEntryKind, body };
}

/** The access change an entry carries, if it carries one. */
export function accessEntryOf(payload: EntryPayload): AccessEntry | undefined {
  if (payload.type !== "protocol" || payload.kind !== accessEntryKind) return undefined;
  const body = payload.body;
  if (!isPlainObject(body) || typeof body.by !== "string" || typeof body.aid !== "number")
    return undefined;
  const change = parseAccessChange(body.change);
  if (!change) return undefined;
  const { ackedBelow } = body;
  if (ackedBelow === undefined) return { by: body.by, aid: body.aid, change };
  if (!Number.isSafeInteger(ackedBelow) || Number(ackedBelow) < 0) return undefined;
  return { by: body.by, aid: body.aid, change, ackedBelow: Number(ackedBelow) };
}

/** An access change from untrusted bytes (a log entry, a PBFT request), or undefined. */
export function parseAccessChange(change: Value | undefined): AccessChange | undefined {
  if (!isPlainObject(change)) return undefined;
  if (change.op === "setDefaultRole" && roles.includes(change.role as Role))
    return change as AccessChange;
  if (typeof change.client !== "string") return undefined;
  if (change.op === "revoke") return change as AccessChange;
  if (change.op === "setRole" && roles.includes(change.role as Role)) return change as AccessChange;
  if (change.op === "rotate" && Number.isSafeInteger(change.version) && Number(change.version) > 0)
    return change as AccessChange;
  return undefined;
}

/** Whether a command must be ordered as a refusal (see accessRefusal). */
export function forbiddenCommand(
  msg: ClientRequestMessage,
  access: ClientAccess | undefined,
): boolean {
  if (access === undefined || msg.type !== "request" || msg.seq === 0) return false;
  return access.revoked || !allows(access.role, "write");
}

/** The role a request needs; `undefined` for shapes this module does not know (other wires). */
export function roleNeeded(msg: ClientRequestMessage): Role | undefined {
  switch (msg.type) {
    case "request":
      // seq 0 opens a session: harmless, and a read-only client's library may open one.
      return msg.seq === 0 ? "read" : "write";
    case "query":
      return "read";
    case "admin":
      return "admin";
    default:
      return undefined;
  }
}

export function allows(role: Role, needed: Role): boolean {
  return rank[role] >= rank[needed];
}

/** The `forbidden` result for `client`, with a message that says why. */
export function forbidden(client: ClientId, access: ClientAccess, needed: Role): ReplyResult {
  const message = access.revoked
    ? `client ${client} is revoked`
    : `client ${client} has role ${access.role}; this request needs ${needed}`;
  return { ok: false, error: "forbidden", message };
}

/**
 * The refusal of a request the client's access does not allow, or undefined to admit it.
 * Protocol cores call it when they order a request; `access` is what the driver read from the
 * replica's applied state (undefined: the driver does not track access, nothing is refused).
 *
 * Commands (seq ≥ 1) are never refused here: a `forbidden` answer says the command did not take
 * effect, and a replica cannot know that alone. Another copy of the same command may sit in
 * another replica's log, or arrive later, delayed, when the client's role has come back. So a
 * command the client may not make is ordered as a refusal (`forbiddenCommand`: logged without
 * its body, marked `forbidden`), and the session table records the refusal when it is applied,
 * which answers every copy the same. Queries, admin requests and session registrations are
 * refused here.
 */
export function accessRefusal(
  msg: ClientRequestMessage,
  access: ClientAccess | undefined,
): ClientReplyMessage | undefined {
  if (access === undefined) return undefined;
  if (msg.type === "request" && msg.seq > 0) return undefined;
  const needed = roleNeeded(msg);
  if (needed === undefined) return undefined;
  if (!access.revoked && allows(access.role, needed)) return undefined;
  const result = forbidden(msg.client, access, needed);
  switch (msg.type) {
    case "request":
      return { type: "reply", client: msg.client, seq: msg.seq, result };
    case "query":
      return { type: "queryReply", client: msg.client, qid: msg.qid, result };
    case "admin":
      return { type: "adminReply", client: msg.client, aid: msg.aid, result };
  }
}

interface AccessRow {
  /** Undefined: the policy's default role. */
  role: Role | undefined;
  revoked: boolean;
  /** 0 is the key every client starts with; `rotate` moves it forward. */
  keyVersion: number;
  /** The versions it replaced, newest first, at most maxRetiredKeyVersions (see retiredKeyVersions). */
  retired: readonly number[];
}

/** Retired key versions kept per client (net/handshake.ts tries as many). */
export const maxRetiredKeyVersions = 4;

/** Most client ids the table keeps rows for (each row is a few dozen bytes in snapshots). */
export const maxAccessRows = 100_000;

/**
 * The replicated access state: per client id a role, a revoked flag and a key version. A session
 * id `alice.3f2a…` belongs to principal `alice`, and a client id may itself contain dots (a key
 * of `alice` may speak for every `alice.*` session), so a session is revoked if any dotted
 * prefix of its id is, and gets the least role among them (see accessOf).
 */
export class AccessTable {
  private readonly rows = new Map<ClientId, AccessRow>();
  /** The role of ids without one of their own: the policy's until a `setDefaultRole`. */
  private defaultRoleNow: Role;

  constructor(readonly policy: AccessPolicy) {
    this.defaultRoleNow = policy.defaultRole;
    for (const [client, role] of Object.entries(policy.roles))
      this.rows.set(client, { role, revoked: false, keyVersion: 0, retired: [] });
  }

  /**
   * The access of session or client id `session`. Its first dotted segment is the principal a
   * key was made for (its role or the default counts); a longer prefix counts only if it has a
   * role of its own. The least of those, so that no key speaks with more than its own authority.
   */
  accessOf(session: ClientId): ClientAccess {
    let role: Role | undefined;
    let revoked = false;
    for (const prefix of dottedPrefixes(session)) {
      const row = this.rows.get(prefix);
      const r = row?.role ?? (role === undefined ? this.defaultRoleNow : undefined);
      if (r !== undefined && (role === undefined || rank[r] < rank[role])) role = r;
      if (row?.revoked) revoked = true;
    }
    return { role: role ?? this.defaultRoleNow, revoked };
  }

  /** The role of client ids without a role of their own, now. */
  get defaultRole(): Role {
    return this.defaultRoleNow;
  }

  /** The key version a client must hold now (0 until its first rotation). */
  keyVersion(client: ClientId): number {
    return this.rows.get(client)?.keyVersion ?? 0;
  }

  /**
   * The key versions this client held before its rotations, newest first: a handshake that
   * proves one is told the key was rotated out rather than left to time out (net/handshake.ts).
   */
  retiredKeyVersions(client: ClientId): readonly number[] {
    return this.rows.get(client)?.retired ?? [];
  }

  /** Whether the key of exactly this client id is revoked (for the handshake). */
  revoked(client: ClientId): boolean {
    return this.rows.get(client)?.revoked ?? false;
  }

  /**
   * Applies a logged change asked for by `by`: checked again here (the role of `by` at this
   * index), so every replica refuses the same changes. Pure function of the table and entry.
   */
  apply(entry: AccessEntry): ReplyResult {
    const asker = this.accessOf(entry.by);
    if (asker.revoked || !allows(asker.role, "admin")) return forbidden(entry.by, asker, "admin");
    const { change } = entry;
    if (change.op === "setDefaultRole") {
      this.defaultRoleNow = change.role;
      return { ok: true, value: null };
    }
    const existing = this.rows.get(change.client);
    if (!existing && this.rows.size >= maxAccessRows)
      return {
        ok: false,
        error: "busy",
        message: `the access table holds ${maxAccessRows} clients`,
      };
    const row = existing ?? { role: undefined, revoked: false, keyVersion: 0, retired: [] };
    switch (change.op) {
      case "setRole":
        row.role = change.role;
        break;
      case "revoke":
        row.revoked = true;
        break;
      case "rotate":
        // Idempotent: a retried rotation to the version already in force succeeds again.
        if (change.version < row.keyVersion)
          return {
            ok: false,
            error: "invalid",
            message: `client ${change.client} already has key version ${row.keyVersion} > ${change.version}`,
          };
        if (change.version > row.keyVersion)
          row.retired = [row.keyVersion, ...row.retired].slice(0, maxRetiredKeyVersions);
        row.keyVersion = change.version;
        // A new key is a fresh start: the revoked key stays refused (its version is old).
        row.revoked = false;
        break;
    }
    this.rows.set(change.client, row);
    return { ok: true, value: null };
  }

  /**
   * Rows in id order (deterministic), for snapshots: the array of rows alone while the default
   * role is the policy's (the form snapshots had before setDefaultRole), else
   * `{defaultRole, rows}`, which a replica from before setDefaultRole refuses as not an array.
   */
  toValue(): Value {
    const out: Value[] = [];
    for (const client of [...this.rows.keys()].sort()) {
      const row = this.rows.get(client)!;
      const fields: Value[] = [client, row.role ?? null, row.revoked, row.keyVersion];
      // A fifth field only for rotated clients: other rows keep the form of older snapshots.
      if (row.retired.length > 0) fields.push([...row.retired]);
      out.push(fields);
    }
    if (this.defaultRoleNow === this.policy.defaultRole) return out;
    return { defaultRole: this.defaultRoleNow, rows: out };
  }

  static fromValue(v: Value, policy: AccessPolicy): AccessTable {
    const table = new AccessTable({ defaultRole: policy.defaultRole, roles: {} });
    let rows = v;
    if (isPlainObject(v)) {
      if (!roles.includes(v.defaultRole as Role))
        throw new Error("access table snapshot: bad defaultRole");
      table.defaultRoleNow = v.defaultRole as Role;
      rows = v.rows as Value;
    }
    if (!Array.isArray(rows)) throw new Error("access table snapshot: expected an array");
    for (const row of rows as readonly Value[]) {
      if (!Array.isArray(row) || row.length < 4 || row.length > 5)
        throw new Error("access table snapshot: bad row");
      const [client, role, revoked, keyVersion, retired = []] = row as readonly Value[];
      if (
        typeof client !== "string" ||
        (role !== null && !roles.includes(role as Role)) ||
        typeof revoked !== "boolean" ||
        typeof keyVersion !== "number" ||
        !Array.isArray(retired) ||
        retired.length > maxRetiredKeyVersions ||
        !retired.every((v) => typeof v === "number")
      )
        throw new Error("access table snapshot: bad row fields");
      table.rows.set(client, {
        role: (role ?? undefined) as Role | undefined,
        revoked,
        keyVersion,
        retired: retired as number[],
      });
    }
    return table;
  }
}

/** `a.b.c` → `a`, `a.b`, `a.b.c`. */
function dottedPrefixes(id: ClientId): string[] {
  const out: string[] = [];
  let at = id.indexOf(".");
  while (at > 0) {
    out.push(id.slice(0, at));
    at = id.indexOf(".", at + 1);
  }
  out.push(id);
  return out;
}

/** Problems with the `clients` section of a configuration, one string each. */
export function accessPolicyProblems(raw: unknown): { policy?: AccessPolicy; problems: string[] } {
  const problems: string[] = [];
  if (!isPlainObject(raw)) return { problems: ["clients: expected an object"] };
  for (const key of Object.keys(raw))
    if (key !== "defaultRole" && key !== "roles") problems.push(`clients.${key}: unknown field`);
  const defaultRole = raw.defaultRole ?? "write";
  if (!roles.includes(defaultRole as Role))
    problems.push(
      `clients.defaultRole: expected one of ${roles.join(", ")}, got ${JSON.stringify(raw.defaultRole)}`,
    );
  const out: Record<string, Role> = {};
  if (raw.roles !== undefined) {
    if (!isPlainObject(raw.roles)) problems.push("clients.roles: expected an object");
    else
      for (const [client, role] of Object.entries(raw.roles)) {
        if (client.length === 0 || client.length > 64)
          problems.push(
            `clients.roles: client id ${JSON.stringify(client)} is not 1 to 64 characters`,
          );
        if (!roles.includes(role as Role))
          problems.push(
            `clients.roles.${client}: expected one of ${roles.join(", ")}, got ${JSON.stringify(role)}`,
          );
        else out[client] = role as Role;
      }
  }
  if (problems.length > 0) return { problems };
  return { policy: { defaultRole: defaultRole as Role, roles: out }, problems };
}
