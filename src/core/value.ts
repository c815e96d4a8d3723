/**
 * The values lockstep can carry in a log entry, a message or a snapshot: what the codec
 * encodes. State machine commands, results and queries must be built from these.
 */
export type Value =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | readonly Value[]
  | { readonly [key: string]: Value };

/**
 * What a service's command, result and query types may be declared as: a Value written as a
 * `type` alias, or an `interface` whose fields are Values. TypeScript gives interfaces no index
 * signature, so they cannot extend Value itself; this bound admits them, and `defineService`
 * checks field by field that they hold only Values. At run time every value crossing the network
 * is checked against the wire schema either way.
 */
export type ValueLike = null | boolean | number | string | Uint8Array | readonly unknown[] | object;

/** `T` with every part that is not a Value (a Date, a function, undefined, a bigint) as never. */
export type OnlyValues<T> = T extends null | boolean | number | string | Uint8Array
  ? T
  : T extends bigint | symbol | undefined | Date | Map<unknown, unknown> | Set<unknown>
    ? never
    : T extends (...args: never[]) => unknown
      ? never
      : T extends readonly unknown[]
        ? { readonly [K in keyof T]: OnlyValues<T[K]> }
        : T extends object
          ? { readonly [K in keyof T]: OnlyValues<Exclude<T[K], undefined>> }
          : never;

/** `unknown` when `T` holds only Values; otherwise an object type naming the problem. */
export type CheckValues<T> = [T] extends [OnlyValues<T>]
  ? unknown
  : { readonly "a command, result or query type holds something that is not a Value": T };

declare const resultsByOp: unique symbol;

/**
 * A result type declared per command: `PerOp<{ balance: Balance; total: Total }>` is the union of
 * the results (what `apply` or `query` returns), and tells a typed client which one each command
 * or query gets, by its `op` field: `client.query({ op: "total" })` is a `Promise<Total>`. The
 * marker is a type only (an optional symbol-keyed field no value carries).
 */
export type PerOp<M extends { readonly [op: string]: ValueLike }> = M[keyof M] & {
  readonly [resultsByOp]?: M;
};

/**
 * The result a client gets for command (or query) `C` from a service whose results are `Res`:
 * the entry for `C`'s `op` when `Res` is a PerOp, otherwise `Res`.
 */
export type ResultFor<Res, C> = Res extends { readonly [resultsByOp]?: infer M }
  ? unknown extends M
    ? Res
    : C extends { readonly op: infer K }
      ? K extends keyof M
        ? M[K]
        : Res
      : Res
  : Res;
