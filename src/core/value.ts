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
