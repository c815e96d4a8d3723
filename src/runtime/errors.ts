/**
 * Why a replica refused to start. `kind` says which input was wrong; the message is one line
 * that names the file or setting, and docs/operations.md ("Startup errors") says what to do.
 */
export type StartupErrorKind =
  /** Command-line arguments. */
  | "usage"
  /** The cluster configuration file or its protocol settings. */
  | "config"
  /** The key file. */
  | "keys"
  /** The data directory: locked, corrupt, unreadable. */
  | "storage"
  /** The replica's address or the metrics address could not be bound. */
  | "listen";

export class StartupError extends Error {
  constructor(
    readonly kind: StartupErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StartupError";
  }
}

/** The first line of an error's message (for one-line reports). */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}
