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
 * The replicated state of a replica: the user's state machine plus the session table that
 * makes commands exactly-once. Drivers (simulator, runtime) own one per replica and feed it
 * the entries a protocol core outputs, strictly in log order.
 */
export class ReplicatedService {
  private machine: AnyStateMachine;
  private sessions: SessionTable;
  private applied: LogIndex = 0;
  /** The agreed time of the entry at `applied` (what queries see as now). */
  private appliedTime = 0;

  constructor(
    readonly definition: AnyServiceDefinition,
    readonly limits: SessionLimits = defaultSessionLimits,
  ) {
    this.machine = createMachine(definition);
    this.sessions = new SessionTable(limits);
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
    const commands = serviceCommands(entry.payload);
    if (commands.length === 0) return [];
    const out: AppliedCommand[] = [];
    commands.forEach((command, position) => {
      const { client, seq } = command;
      let result: ReplyResult;
      if (seq === 0) {
        result = this.sessions.open(client, entry.time);
      } else {
        const decision = this.sessions.check(client, seq, command.ackedBelow, entry.time);
        if (decision.kind === "answer") {
          result = decision.result;
        } else {
          result = this.execute(command.cmd, entry, position);
          this.sessions.record(client, seq, result);
        }
      }
      out.push({ index: entry.index, client, seq, result });
    });
    return out;
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

  /** The whole replicated state at `appliedIndex`: sessions and the user's snapshot. */
  snapshot(): Uint8Array {
    return encode([
      this.applied,
      this.sessions.toValue(),
      this.machine.snapshot(),
      this.appliedTime,
    ]);
  }

  restore(bytes: Uint8Array): void {
    // Our own snapshots may be far larger and deeper than any network message, so they get
    // their own (still bounded) limits rather than the codec's defaults for untrusted input.
    const decoded = decode(bytes, snapshotValue);
    // Three fields before queries had a clock; the fourth, the applied entry's time, is newer.
    if (!Array.isArray(decoded) || (decoded.length !== 3 && decoded.length !== 4))
      throw new Error("service snapshot: bad envelope");
    const [applied, sessions, user, time = 0] = decoded as readonly Value[];
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
  if (!Array.isArray(decoded) || (decoded.length !== 3 && decoded.length !== 4))
    throw new Error("service snapshot: bad envelope");
  const [applied, , , time = 0] = decoded as readonly Value[];
  if (typeof applied !== "number" || typeof time !== "number")
    throw new Error("service snapshot: bad fields");
  return { index: applied, time };
}
