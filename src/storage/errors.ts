/**
 * The errors storage raises. Every one names what to do about it in docs/storage.md.
 */

export { StorageCorruptionError } from "../durable/errors.js";

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
