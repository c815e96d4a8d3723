/**
 * Framing for records on stable storage: [payload length u32 LE][crc32 of payload u32 LE][payload].
 * A crash can leave the last record cut anywhere; the checksum lets recovery find where the
 * whole records end instead of inventing data.
 */
export const recordHeaderBytes = 8;

/**
 * CRC-32 (IEEE, as zlib computes it) of some bytes. Core declares it and the platform layer
 * installs one (src/platform/record-framing.ts, node:zlib), so core imports no Node module.
 */
export type Crc32 = (bytes: Uint8Array) => number;

let crc32Implementation: Crc32 | undefined;

export function installCrc32(implementation: Crc32): void {
  crc32Implementation = implementation;
}

function crc32(bytes: Uint8Array): number {
  if (crc32Implementation === undefined) {
    throw new Error(
      "no CRC-32 implementation installed: import src/platform/record-framing.js (the simulator and storage do)",
    );
  }
  return crc32Implementation(bytes);
}
/** Records larger than this are refused on write and treated as corruption on read. */
export const maxRecordBytes = 256 * 1024 * 1024;

export function frameRecord(payload: Uint8Array): Uint8Array {
  if (payload.length > maxRecordBytes)
    throw new RangeError(`record of ${payload.length} bytes exceeds ${maxRecordBytes}`);
  const out = new Uint8Array(recordHeaderBytes + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, crc32(payload), true);
  out.set(payload, recordHeaderBytes);
  return out;
}

export interface ReadRecordsResult {
  readonly records: Uint8Array[];
  /** Bytes covered by whole, valid records; everything after is a torn or corrupt tail. */
  readonly validLength: number;
  /** Why reading stopped before the end, if it did. */
  readonly stop?: {
    readonly offset: number;
    readonly reason: "short-header" | "short-payload" | "checksum" | "too-large";
  };
}

export function readRecords(bytes: Uint8Array): ReadRecordsResult {
  const records: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < recordHeaderBytes) {
      return { records, validLength: offset, stop: { offset, reason: "short-header" } };
    }
    const length = view.getUint32(offset, true);
    const sum = view.getUint32(offset + 4, true);
    if (length > maxRecordBytes)
      return { records, validLength: offset, stop: { offset, reason: "too-large" } };
    const start = offset + recordHeaderBytes;
    if (bytes.length - start < length) {
      return { records, validLength: offset, stop: { offset, reason: "short-payload" } };
    }
    const payload = bytes.subarray(start, start + length);
    if (crc32(payload) !== sum)
      return { records, validLength: offset, stop: { offset, reason: "checksum" } };
    records.push(payload);
    offset = start + length;
  }
  return { records, validLength: offset };
}
