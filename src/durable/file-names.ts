/**
 * Names of the files in a storage directory. Numbers are zero padded so that a plain directory
 * listing sorts them, but every reader parses them rather than relying on the order.
 */

export const lockFileName = "LOCK";

const segmentPattern = /^wal-(\d{10,})\.log$/;
const snapshotPattern = /^snapshot-(\d{16,})\.snap$/;

/** WAL segment number `seq` (1, 2, 3, … in the order they were started). */
export function segmentFileName(seq: number): string {
  return `wal-${String(seq).padStart(10, "0")}.log`;
}

/** The segment number, if `name` is exactly what segmentFileName gives for it. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = segmentPattern.exec(name);
  const seq = match ? Number(match[1]) : undefined;
  return seq !== undefined && segmentFileName(seq) === name ? seq : undefined;
}

/** The snapshot taken at log index `index`. */
export function snapshotFileName(index: number): string {
  return `snapshot-${String(index).padStart(16, "0")}.snap`;
}

/** The snapshot index, if `name` is exactly what snapshotFileName gives for it. */
export function parseSnapshotFileName(name: string): number | undefined {
  const match = snapshotPattern.exec(name);
  const index = match ? Number(match[1]) : undefined;
  return index !== undefined && snapshotFileName(index) === name ? index : undefined;
}

/** Where a snapshot is written before it is renamed into place. */
export function snapshotTempFileName(index: number): string {
  return `${snapshotFileName(index)}.tmp`;
}

/** Leftovers of a snapshot write that a crash interrupted; recovery deletes them. */
export function isTempFileName(name: string): boolean {
  return name.startsWith("snapshot-") && name.endsWith(".tmp");
}
