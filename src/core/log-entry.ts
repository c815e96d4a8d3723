import type { ClientId, LogIndex, Seq, Term } from "./ids.js";
import { array, int, object, type Schema, str, tagged, value } from "./schema.js";
import type { Value } from "./value.js";

/** One client command as ordered in the log. seq 0 opens the session (cmd is null then). */
export interface LoggedCommand {
  readonly client: ClientId;
  readonly seq: Seq;
  readonly ackedBelow: Seq;
  readonly cmd: Value;
}

export type EntryPayload =
  /** Written by a new leader to commit entries of earlier terms (Raft 5.4.2) or to fill a gap. */
  | { readonly type: "noop" }
  /** A batch of client commands, applied in order. */
  | { readonly type: "commands"; readonly commands: readonly LoggedCommand[] }
  /** A membership change; the shape belongs to the protocol. */
  | { readonly type: "config"; readonly config: Value };

/**
 * A log entry. `time` and `seed` are the nondeterministic inputs the leader fixed for it
 * (ApplyContext.now and .random), so every replica applies it identically.
 */
export interface LogEntry {
  readonly index: LogIndex;
  readonly term: Term;
  readonly time: number;
  readonly seed: number;
  readonly payload: EntryPayload;
}

export const loggedCommandSchema = object({
  client: str(64),
  seq: int(0),
  ackedBelow: int(0),
  cmd: value(),
});

export const entryPayloadSchema = tagged({
  noop: {},
  commands: { commands: array(loggedCommandSchema, 1 << 16) },
  config: { config: value() },
});

export const logEntrySchema: Schema<LogEntry> = object({
  index: int(1),
  term: int(0),
  time: int(0),
  seed: int(0, 0xffffffff),
  payload: entryPayloadSchema,
}) as Schema<LogEntry>;

/** Counts commands in an entry (for batching limits and metrics). */
export function commandCount(entry: LogEntry): number {
  return entry.payload.type === "commands" ? entry.payload.commands.length : 0;
}
