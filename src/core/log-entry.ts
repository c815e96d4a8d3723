import type { ClientId, LogIndex, Seq, Term } from "./ids.js";
import {
  array,
  int,
  literal,
  object,
  optional,
  type Schema,
  str,
  tagged,
  value,
} from "./schema.js";
import type { Value } from "./value.js";

/** One client command as ordered in the log. seq 0 opens the session (cmd is null then). */
export interface LoggedCommand {
  readonly client: ClientId;
  readonly seq: Seq;
  readonly ackedBelow: Seq;
  readonly cmd: Value;
  /**
   * The client's authenticator over the request, as the protocol defines it (PBFT: a MAC
   * vector with one MAC per replica, or a signature), logged so that every replica can check
   * that a faulty primary did not forge or alter the request. Crash-fault protocols leave it
   * out. The service never sees it.
   */
  readonly auth?: Value;
  /**
   * The replica that ordered it refused it (core/access.ts: the client's role or a revoked
   * key): logged without its body (`cmd` null), it never runs, and the session table records
   * `forbidden` as its result.
   */
  readonly forbidden?: true;
}

/**
 * What an entry carries. The service sees only `commands` (through `serviceCommands`); every
 * other payload is the protocol's own. `protocol` is the open slot: a protocol may log payloads
 * of its own kinds (PBFT: a batch of request digests whose bodies travel separately; P/B: an
 * epoch marker) without a new union member here.
 */
export type EntryPayload =
  /** Written by a new leader to commit entries of earlier terms (Raft 5.4.2) or to fill a gap. */
  | { readonly type: "noop" }
  /** A batch of client commands, applied in order. */
  | { readonly type: "commands"; readonly commands: readonly LoggedCommand[] }
  /** A membership change; the shape belongs to the protocol. */
  | { readonly type: "config"; readonly config: Value }
  /** Anything else the protocol logs; `kind` names it, `body` is its content. */
  | { readonly type: "protocol"; readonly kind: string; readonly body: Value };

const noCommands: readonly LoggedCommand[] = [];

/** The client commands in a payload, in order: all that the replicated service applies. */
export function serviceCommands(payload: EntryPayload): readonly LoggedCommand[] {
  return payload.type === "commands" ? payload.commands : noCommands;
}

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
  auth: optional(value()),
  forbidden: optional(literal(true)),
});

export const entryPayloadSchema = tagged({
  noop: {},
  commands: { commands: array(loggedCommandSchema, 1 << 16) },
  config: { config: value() },
  protocol: { kind: str(64), body: value() },
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
  return serviceCommands(entry.payload).length;
}
