import type { CheckValues, Value, ValueLike } from "./value.js";

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
  Cmd extends ValueLike,
  Res extends ValueLike,
  Q extends ValueLike = Cmd,
  QRes extends ValueLike = Res,
> {
  apply(cmd: Cmd, ctx: ApplyContext): Res;
  /**
   * A read-only query; must not change state. Optional: a service without it refuses queries
   * with `invalid`, and reads must then be written as commands (which go through the log).
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
  Cmd extends ValueLike,
  Res extends ValueLike,
  Q extends ValueLike = Cmd,
  QRes extends ValueLike = Res,
> {
  readonly name: string;
  /**
   * The version of the service's command and snapshot formats. A data directory records the
   * name and version that wrote it, and a replica with another refuses to start on it. Change
   * it when old logs or snapshots no longer mean the same to the new code.
   */
  readonly version?: string | number;
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
export type AnyServiceDefinition = ServiceDefinition<ValueLike, ValueLike, ValueLike, ValueLike>;

/** A state machine with its types erased to Value, as replicas and the simulator drive it. */
export type AnyStateMachine = StateMachine<Value, Value, Value, Value>;

/**
 * A fresh machine of `definition`, typed for code that only moves Values around. Sound because
 * every command and query reaching it passed the wire schema (so it is a Value) and the service's
 * validator, and results go back through the codec, which encodes only Values.
 */
export function createMachine(definition: AnyServiceDefinition): AnyStateMachine {
  return definition.create() as AnyStateMachine;
}

/**
 * Declares a service and checks, at compile time, that its command, result and query types hold
 * only Values (commands may be `interface`s). It returns the definition unchanged; its type is
 * what `connect<typeof service>()` reads the client's types from.
 */
export function defineService<
  Cmd extends ValueLike,
  Res extends ValueLike,
  Q extends ValueLike = Cmd,
  QRes extends ValueLike = Res,
>(
  definition: ServiceDefinition<Cmd, Res, Q, QRes> & CheckValues<Cmd | Res | Q | QRes>,
): ServiceDefinition<Cmd, Res, Q, QRes> {
  return definition;
}

/** The command type of a service definition (`CommandOf<typeof ledger>`). */
export type CommandOf<S> =
  S extends ServiceDefinition<infer C, infer _R, infer _Q, infer _QR> ? C : never;
/** The result type of a service definition's commands. */
export type ResultOf<S> =
  S extends ServiceDefinition<infer _C, infer R, infer _Q, infer _QR> ? R : never;
/** The query type of a service definition. */
export type QueryOf<S> =
  S extends ServiceDefinition<infer _C, infer _R, infer Q, infer _QR> ? Q : never;
/** The query answer type of a service definition. */
export type QueryResultOf<S> =
  S extends ServiceDefinition<infer _C, infer _R, infer _Q, infer QR> ? QR : never;
