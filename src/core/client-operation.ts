import type { Value } from "./value.js";

/** What a client asks of a service: a command goes through the log, a query is read-only. */
export type ClientOperation =
  | { readonly kind: "command"; readonly value: Value }
  | { readonly kind: "query"; readonly value: Value };
