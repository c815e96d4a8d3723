import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { SnapshotMeta } from "../core/protocol.js";
import { snapshotFileName, snapshotTempFileName } from "../durable/file-names.js";
import { encodeSnapshotFile } from "../durable/snapshot-file.js";
import { fsyncDirectory } from "./fs-directory.js";

/**
 * Writes `snapshot-<index>.snap` atomically: a temp file in the same directory, written and
 * fsynced, renamed into place, then the directory fsynced. A crash leaves either no file (or a
 * temp file recovery deletes) or the whole file. Returns the bytes written.
 */
export async function writeSnapshotFile(
  dir: string,
  meta: SnapshotMeta,
  data: Uint8Array,
): Promise<number> {
  const { head, trailer } = encodeSnapshotFile(meta, data);
  const temp = path.join(dir, snapshotTempFileName(meta.index));
  const handle = await fs.open(temp, "w");
  try {
    await handle.writev([head, data, trailer]);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, path.join(dir, snapshotFileName(meta.index)));
  await fsyncDirectory(dir);
  return head.length + data.length + trailer.length;
}
