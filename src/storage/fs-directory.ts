import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { RecoverySource } from "../durable/recovery.js";

/** The files of a storage directory, as recovery reads them. */
export function directorySource(dir: string): RecoverySource {
  return {
    list: () => fs.readdir(dir),
    read: (file) => fs.readFile(path.join(dir, file)),
  };
}

/**
 * Makes the directory's entries durable (a created, renamed or deleted file). Linux needs this:
 * fsync on a file does not persist the name pointing at it. Platforms that cannot open a
 * directory (Windows) persist metadata on their own, so the error is ignored there only.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(dir, "r");
  } catch (error) {
    if (process.platform === "win32") return;
    throw error;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
