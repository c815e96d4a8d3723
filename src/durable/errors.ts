/** The error recovery raises when a directory cannot be trusted (docs/storage.md says what to do). */

/**
 * The directory holds data that recovery cannot trust: a bad record before the end of the log,
 * a missing segment, an op that does not decode or apply, or a snapshot the log depends on that
 * cannot be read. Recovery refuses to start rather than return altered or incomplete state.
 */
export class StorageCorruptionError extends Error {
  constructor(
    /** The file (name within the storage directory) where the problem is. */
    readonly file: string,
    /** Byte offset within `file` of the first bad record, when the problem is at one. */
    readonly offset: number | undefined,
    /** What is wrong, e.g. "checksum mismatch". */
    readonly problem: string,
    /** Why that stops recovery, e.g. "the log is corrupt before its end". */
    readonly consequence: string,
  ) {
    super(
      `${file}${offset === undefined ? "" : ` at offset ${offset}`}: ${problem}; refusing to start (${consequence})`,
    );
    this.name = "StorageCorruptionError";
  }
}
