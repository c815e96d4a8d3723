/**
 * For the default branch of an exhaustive switch. Commands reach `apply` only after
 * validateCommand, so getting here means a caller skipped validation: fail loudly (and the same
 * way on every replica) rather than silently doing nothing.
 */
export function unreachable(x: never, what: string): never {
  throw new Error(`${what}: unexpected ${JSON.stringify(x)}`);
}
