import { promises as fs } from "node:fs";
import * as path from "node:path";
import { lockFileName } from "../durable/file-names.js";
import { StorageLockedError } from "./errors.js";

/**
 * One process at a time per directory: a LOCK file holding the owner's pid, created with `wx`
 * (fails if it exists). A LOCK whose pid is not a live process is stale (the owner crashed) and
 * is taken over. Pids are reused, so a stale LOCK can name an unrelated live process: the error
 * then says so, and deleting the file is the operator's call.
 */
export class DirectoryLock {
  private released = false;

  private constructor(
    private readonly file: string,
    /** The pid of the dead owner whose LOCK was taken over, if any. */
    readonly tookOverFrom: number | undefined,
  ) {}

  static async acquire(dir: string): Promise<DirectoryLock> {
    const file = path.join(dir, lockFileName);
    if (await create(file)) return new DirectoryLock(file, undefined);
    const owner = await readOwner(file);
    if (owner !== undefined && isAlive(owner)) throw new StorageLockedError(dir, owner);
    // Stale: the owner is gone (or died before writing its pid). Remove and retry once; losing
    // that race to another process means it now holds the lock.
    await fs.rm(file, { force: true });
    if (await create(file)) return new DirectoryLock(file, owner ?? 0);
    throw new StorageLockedError(dir, (await readOwner(file)) ?? 0);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await fs.rm(this.file, { force: true });
  }
}

async function create(file: string): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
  } finally {
    await handle.close();
  }
  return true;
}

async function readOwner(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await fs.readFile(file, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
