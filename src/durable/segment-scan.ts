import { crc32 } from "node:zlib";
import { maxRecordBytes, readRecords, recordHeaderBytes } from "../platform/record-framing.js";

/**
 * Splits the bytes of one WAL segment into framed records (core/record-framing) and says where
 * and why reading stopped, if it stopped before the end. Pure: recovery runs it on file
 * contents, the crash tests on byte arrays.
 */

export type StopReason = "short-header" | "short-payload" | "checksum" | "too-large" | "empty";

export interface ScannedRecord {
  readonly offset: number;
  readonly payload: Uint8Array;
}

export interface SegmentScan {
  readonly records: readonly ScannedRecord[];
  /** Bytes covered by whole, valid records. */
  readonly validLength: number;
  readonly stop?: { readonly offset: number; readonly reason: StopReason };
}

export function scanSegment(bytes: Uint8Array): SegmentScan {
  const read = readRecords(bytes);
  const records: ScannedRecord[] = [];
  let offset = 0;
  for (const payload of read.records) {
    // Storage never writes an empty payload; a zero length is what a zero-filled tail reads as.
    if (payload.length === 0)
      return { records, validLength: offset, stop: { offset, reason: "empty" } };
    records.push({ offset, payload });
    offset += recordHeaderBytes + payload.length;
  }
  return read.stop
    ? { records, validLength: read.validLength, stop: read.stop }
    : { records, validLength: read.validLength };
}

export const stopDescriptions: Record<StopReason, string> = {
  "short-header": "record header cut short",
  "short-payload": "record cut short",
  checksum: "checksum mismatch",
  "too-large": "record length exceeds the maximum",
  empty: "zero-length record",
};

/**
 * Decides whether reading that stopped at `stop` in the LAST segment met a torn tail (a write a
 * crash cut off, safe to truncate) or corruption. It is a torn tail only if no whole, valid
 * record starts anywhere after the stop, and, for a checksum mismatch, only zeros (or nothing)
 * follow the bad record. Returns a description of the evidence for corruption, or undefined.
 */
export function corruptionAfterStop(
  bytes: Uint8Array,
  stop: { readonly offset: number; readonly reason: StopReason },
): string | undefined {
  const next = findValidRecord(bytes, stop.offset + 1);
  if (next !== undefined) return `a valid record follows at offset ${next}`;
  if (stop.reason === "checksum") {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = stop.offset + recordHeaderBytes + view.getUint32(stop.offset, true);
    for (let i = end; i < bytes.length; i++) {
      if (bytes[i] !== 0) return `non-zero bytes follow the bad record at offset ${i}`;
    }
  }
  return undefined;
}

/** The first offset ≥ from where a whole record with a non-zero length and a good checksum starts. */
export function findValidRecord(bytes: Uint8Array, from: number): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = from; at + recordHeaderBytes < bytes.length; at++) {
    const length = view.getUint32(at, true);
    if (length === 0 || length > maxRecordBytes) continue;
    const start = at + recordHeaderBytes;
    if (start + length > bytes.length) continue;
    if (crc32(bytes.subarray(start, start + length)) === view.getUint32(at + 4, true)) return at;
  }
  return undefined;
}
