/**
 * The errors storage raises. Every one names what to do about it in docs/storage.md.
 */

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

/** Another live process holds the directory's LOCK file. */
export class StorageLockedError extends Error {
  constructor(
    readonly directory: string,
    readonly pid: number,
  ) {
    super(
      `${directory} is locked by running process ${pid} (its LOCK file); stop that process, or ` +
        `delete ${directory}/LOCK if you are sure no lockstep replica uses this directory`,
    );
    this.name = "StorageLockedError";
  }
}

/** The storage was closed; nothing more can be appended. */
export class StorageClosedError extends Error {
  constructor() {
    super("storage is closed");
    this.name = "StorageClosedError";
  }
}

/**
 * A write, sync, rename or delete failed. Storage stops for good (fail-stop): after a failed
 * fsync the kernel may have dropped the dirty pages, so retrying could report lost data durable.
 * Restart the process; recovery reads back what really reached the disk.
 */
export class StorageFailedError extends Error {
  constructor(override readonly cause: unknown) {
    super(
      `storage failed: ${cause instanceof Error ? cause.message : String(cause)}; ` +
        "no further writes are accepted, restart the replica to recover from the directory",
    );
    this.name = "StorageFailedError";
  }
}
