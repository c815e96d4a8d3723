import {
  type AccessEntry,
  type AccessPolicy,
  AccessTable,
  accessEntryOf,
  allows,
  type ClientAccess,
  forbidden,
  legacyAccessPolicy,
} from "./access.js";
import { type AuthorizationEntry, authorizationEntryOf, authorize } from "./admin-authorization.js";
import { makeApplyContext, makeQueryContext } from "./apply-context.js";
import type { ReplyResult } from "./client-messages.js";
import { decode, encode } from "./codec.js";
import type { ClientId, LogIndex, Seq } from "./ids.js";
import { type LogEntry, serviceCommands } from "./log-entry.js";
import { value } from "./schema.js";
import { defaultSessionLimits, type SessionLimits, SessionTable } from "./session-table.js";
import { type AnyServiceDefinition, type AnyStateMachine, createMachine } from "./state-machine.js";
import type { Value } from "./value.js";

const snapshotValue = value(512, Number.MAX_SAFE_INTEGER);

/** The outcome of one logged command, for the protocol core to turn into replies. */
export interface AppliedCommand {
  readonly index: LogIndex;
  readonly client: ClientId;
  readonly seq: Seq;
  readonly result: ReplyResult;
}

/**
 * The outcome of one logged access change (core/access.ts) or authorization
 * (core/admin-authorization.ts), answered as (or carried on as) an admin request.
 */
export interface AppliedAdmin {
  readonly index: LogIndex;
  readonly client: ClientId;
  readonly aid: number;
  readonly result: ReplyResult;
  /** The same request was applied before: `result` is the one the session table recorded then. */
  readonly repeated?: boolean;
}

/**
 * The replicated state of a replica: the user's state machine, the session table that
 * makes commands exactly-once, and the access table (roles, revocations, key versions). Drivers (simulator, runtime) own one per replica and feed it
 * the entries a protocol core outputs, strictly in log order.
 */
export class ReplicatedService {
  private machine: AnyStateMachine;
  private sessions: SessionTable;
  private applied: LogIndex = 0;
  /** The agreed time of the entry at `applied` (what queries see as now). */
  private appliedTime = 0;
  private accessTable: AccessTable;
  /** Results of access changes and authorizations applied since the driver last took them. */
  private adminResults: AppliedAdmin[] = [];
  /** The encoded access table as configured (see snapshot). */
  private readonly initialAccess: Uint8Array;

  constructor(
    readonly definition: AnyServiceDefinition,
    readonly limits: SessionLimits = defaultSessionLimits,
    readonly accessPolicy: AccessPolicy = legacyAccessPolicy,
  ) {
    this.machine = createMachine(definition);
    this.sessions = new SessionTable(limits);
    this.accessTable = new AccessTable(accessPolicy);
    this.initialAccess = encode(this.accessTable.toValue());
  }

  /** The replicated access state at `appliedIndex` (read-only use: roles, key versions). */
  get access(): AccessTable {
    return this.accessTable;
  }

  /** What `client` may do at `appliedIndex`. */
  accessOf(client: ClientId): ClientAccess {
    return this.accessTable.accessOf(client);
  }

  /**
   * What a replica checks before ordering `client`'s request (`seq` for commands): its access,
   * or undefined (no check) for a retry of a command that already ran, which then goes on to be
   * answered with its recorded result (a refusal logged for it would be answered the same way,
   * by the session table; this saves logging it).
   */
  admissionAccess(client: ClientId, seq?: Seq): ClientAccess | undefined {
    if (seq !== undefined && seq > 0 && this.sessions.hasResult(client, seq)) return undefined;
    return this.accessTable.accessOf(client);
  }

  /** The results of access changes applied since the last call (the driver feeds them to the core). */
  takeAdminResults(): AppliedAdmin[] {
    const out = this.adminResults;
    this.adminResults = [];
    return out;
  }

  get appliedIndex(): LogIndex {
    return this.applied;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  applyEntry(entry: LogEntry): AppliedCommand[] {
    if (entry.index !== this.applied + 1) {
      throw new Error(`apply out of order: entry ${entry.index} after ${this.applied}`);
    }
    this.applied = entry.index;
    // Session expiry trusts entry.time. Under crash faults the leader stamps it; a Byzantine
    // primary could push it far ahead and expire every session, so protocols with Byzantine
    // replicas must validate it before it is logged (core/nondeterminism.ts: within
    // [previous, local clock + bound] at 2f+1 replicas), which keeps log time within the bound
    // of correct clocks and expiry at most that much early.
    this.appliedTime = Math.max(this.appliedTime, entry.time);
    this.sessions.expire(entry.time);
    const change = accessEntryOf(entry.payload);
    if (change) {
      const result = this.applyAccessChange(change, entry.time);
      this.adminResults.push({ index: entry.index, client: change.by, aid: change.aid, result });
      return [];
    }
    const authorization = authorizationEntryOf(entry.payload);
    if (authorization) {
      this.adminResults.push({
        index: entry.index,
        ...this.authorizeOnce(authorization, entry.time),
      });
      return [];
    }
    const commands = serviceCommands(entry.payload);
    if (commands.length === 0) return [];
    const out: AppliedCommand[] = [];
    commands.forEach((command, position) => {
      const { client, seq } = command;
      let result: ReplyResult;
      // Checked again at apply, against the access state at this index: a command ordered
      // before its client was revoked or demoted, and logged after, never takes effect.
      const access = this.accessTable.accessOf(client);
      if (seq === 0) {
        result =
          access.revoked || !allows(access.role, "read")
            ? forbidden(client, access, "read")
            : this.sessions.open(client, entry.time);
      } else {
        const decision = this.sessions.check(client, seq, command.ackedBelow, entry.time);
        if (decision.kind === "answer") {
          result = decision.result;
        } else {
          result = command.forbidden
            ? {
                ok: false,
                error: "forbidden",
                message: `client ${client} may not make commands (refused when ordered)`,
              }
            : access.revoked || !allows(access.role, "write")
              ? forbidden(client, access, "write")
              : this.execute(command.cmd, entry, position);
          // A refusal is recorded like any result: a retry gets the same answer, the session moves on.
          this.sessions.record(client, seq, result);
        }
      }
      out.push({ index: entry.index, client, seq, result });
    });
    return out;
  }

  /** An authorization, at most once per session command when it is one (ackedBelow). */
  private authorizeOnce(entry: AuthorizationEntry, now: number): Omit<AppliedAdmin, "index"> {
    const asked = { client: entry.by, aid: entry.aid };
    if (entry.ackedBelow === undefined)
      return { ...asked, result: authorize(this.accessTable, entry) };
    const decision = this.sessions.check(entry.by, entry.aid, entry.ackedBelow, now);
    if (decision.kind === "answer")
      return {
        ...asked,
        result: decision.result,
        ...(decision.repeated ? { repeated: true } : {}),
      };
    const result = authorize(this.accessTable, entry);
    this.sessions.record(entry.by, entry.aid, result);
    return { ...asked, result };
  }

  /** An access change, at most once per session command when it is one (AccessEntry.ackedBelow). */
  private applyAccessChange(change: AccessEntry, now: number): ReplyResult {
    if (change.ackedBelow === undefined) return this.accessTable.apply(change);
    const decision = this.sessions.check(change.by, change.aid, change.ackedBelow, now);
    if (decision.kind === "answer") return decision.result;
    const result = this.accessTable.apply(change);
    this.sessions.record(change.by, change.aid, result);
    return result;
  }

  private execute(cmd: Value, entry: LogEntry, position: number): ReplyResult {
    const problem = this.definition.validateCommand(cmd);
    if (problem !== undefined) return { ok: false, error: "invalid", message: problem };
    try {
      return {
        ok: true,
        value: this.machine.apply(cmd, makeApplyContext(entry.index, position, entry)),
      };
    } catch (error) {
      // Deterministic services throw deterministically, so every replica records the same error.
      return {
        ok: false,
        error: "apply-failed",
        message: String((error as Error)?.message ?? error),
      };
    }
  }

  /** A query of `client`: refused `forbidden` if its access at `appliedIndex` allows no reads. */
  queryAs(client: ClientId, q: Value): ReplyResult {
    const access = this.accessTable.accessOf(client);
    if (access.revoked || !allows(access.role, "read")) return forbidden(client, access, "read");
    return this.query(q);
  }

  query(q: Value): ReplyResult {
    const problem = this.definition.validateQuery(q);
    if (problem !== undefined) return { ok: false, error: "invalid", message: problem };
    if (!this.machine.query)
      return { ok: false, error: "invalid", message: "this service has no queries" };
    const ctx = makeQueryContext(this.applied, this.appliedTime);
    try {
      return { ok: true, value: this.machine.query(q, ctx) };
    } catch (error) {
      return {
        ok: false,
        error: "apply-failed",
        message: String((error as Error)?.message ?? error),
      };
    }
  }

  /** The whole replicated state at `appliedIndex`: sessions, the user's snapshot, access. */
  snapshot(): Uint8Array {
    const fields: Value[] = [
      this.applied,
      this.sessions.toValue(),
      this.machine.snapshot(),
      this.appliedTime,
    ];
    // The access table only once it differs from the configured roles: a cluster that never
    // changed access writes the four-field envelope that replicas from before roles read too.
    const access = encode(this.accessTable.toValue());
    if (!bytesEqual(access, this.initialAccess)) fields.push(this.accessTable.toValue());
    return encode(fields);
  }

  restore(bytes: Uint8Array): void {
    // Our own snapshots may be far larger and deeper than any network message, so they get
    // their own (still bounded) limits rather than the codec's defaults for untrusted input.
    const decoded = decode(bytes, snapshotValue);
    // Three fields before queries had a clock; the fourth, the applied entry's time, is newer;
    // the fifth, the access table, newer still (older snapshots start from the configured roles).
    if (!Array.isArray(decoded) || decoded.length < 3 || decoded.length > 5)
      throw new Error("service snapshot: bad envelope");
    const [applied, sessions, user, time = 0, access] = decoded as readonly Value[];
    if (
      typeof applied !== "number" ||
      !(user instanceof Uint8Array) ||
      sessions === undefined ||
      typeof time !== "number"
    ) {
      throw new Error("service snapshot: bad fields");
    }
    const machine = createMachine(this.definition);
    machine.restore(user);
    this.sessions = SessionTable.fromValue(sessions, this.limits);
    this.accessTable =
      access === undefined
        ? new AccessTable(this.accessPolicy)
        : AccessTable.fromValue(access, this.accessPolicy);
    this.machine = machine;
    this.applied = applied;
    this.appliedTime = time;
  }
}

/**
 * The applied index and agreed time a service snapshot holds, read from its envelope without
 * restoring it: a protocol that received the snapshot by state transfer (PBFT) learns from it
 * where its log time stands. Throws on bytes that are not a service snapshot.
 */
export function snapshotPosition(bytes: Uint8Array): {
  readonly index: LogIndex;
  readonly time: number;
} {
  const decoded = decode(bytes, snapshotValue);
  if (!Array.isArray(decoded) || decoded.length < 3 || decoded.length > 5)
    throw new Error("service snapshot: bad envelope");
  const [applied, , , time = 0] = decoded as readonly Value[];
  if (typeof applied !== "number" || typeof time !== "number")
    throw new Error("service snapshot: bad fields");
  return { index: applied, time };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
