import type { Value } from "./value.js";

/**
 * What a command sees besides itself. Every value here is decided by the leader/primary and
 * carried in the log, so every replica sees the same ones (Schneider's determinism
 * requirement; PBFT section 4.6 "nondeterminism chosen by the primary").
 */
export interface ApplyContext {
  /** Log index of the entry that carries this command. Commands batched into one entry share it. */
  readonly index: number;
  /** Position of this command within its entry's batch (0-based). */
  readonly position: number;
  /** The leader's clock when it created the entry, in milliseconds; never decreases along the log. */
  now(): number;
  /** A deterministic pseudo-random number in [0, 1), from a seed the leader chose for this entry. */
  random(): number;
}

/**
 * What a query sees besides itself: the state it reads is the one after the entry at `index`,
 * and `now()` is that entry's agreed time (the leader's clock when it created it), the same on
 * every replica. It is read-only: there is no `random()`, and a query must not change state.
 */
export interface QueryContext {
  /** The last log index applied to the state the query reads. */
  readonly index: number;
  /** The agreed time of the entry at `index`, in milliseconds (0 before any entry). */
  now(): number;
}

/**
 * A deterministic service. `apply` must depend only on the current state, the command and
 * the context: no clocks, no Math.random, no I/O, no iteration over unordered containers.
 */
export interface StateMachine<
  Cmd extends Value,
  Res extends Value,
  Q extends Value = Cmd,
  QRes extends Value = Res,
> {
  apply(cmd: Cmd, ctx: ApplyContext): Res;
  /**
   * A read-only query; must not change state. Optional: without it reads go through the log.
   * `ctx.now()` lets it judge time (has a hold expired?) by the agreed clock, not a local one.
   */
  query?(q: Q, ctx: QueryContext): QRes;
  /** The whole state as bytes. */
  snapshot(): Uint8Array;
  /** Replace the whole state with a snapshot taken by `snapshot()`. */
  restore(snapshot: Uint8Array): void;
}

/**
 * Everything lockstep needs to know about a service: how to create a fresh replica of it and
 * how to check commands and queries that arrive from the network (they are untrusted).
 */
export interface ServiceDefinition<
  Cmd extends Value,
  Res extends Value,
  Q extends Value = Cmd,
  QRes extends Value = Res,
> {
  readonly name: string;
  create(): StateMachine<Cmd, Res, Q, QRes>;
  /** Returns an error message for a malformed command, or undefined when it is well formed. */
  validateCommand(cmd: Value): string | undefined;
  /** Returns an error message for a malformed query, or undefined when it is well formed. */
  validateQuery(q: Value): string | undefined;
}

/**
 * A ServiceDefinition with its type parameters erased, for code that only moves values around
 * (replicas, simulator). Method parameters are bivariant, so every typed definition fits.
 */
export type AnyServiceDefinition = ServiceDefinition<Value, Value, Value, Value>;
