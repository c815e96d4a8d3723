import { crc32 } from "node:zlib";
import { snapshotMetaFields, snapshotMetaSchema } from "../core/persist-ops-codec.js";
import type { SnapshotMeta } from "../core/protocol.js";
import { decode, encode } from "../platform/codec.js";

/**
 * The snapshot file format (all integers little endian):
 *
 *   0  8 bytes  magic "LKSTSNAP"
 *   8  u32      format version (2; 1 had a mandatory Raft term in the meta)
 *  12  u32      meta length M
 *  16  u64      data length D
 *  24  M bytes  encode(meta)  (MessagePack SnapshotMeta: { index, config, time?, digest?, proof?, protocol? })
 *  24+M D bytes the service snapshot
 *  24+M+D u32   crc32 of every byte before it
 */
const magic = new TextEncoder().encode("LKSTSNAP");
const version = 2;
export const snapshotHeaderBytes = 24;
export const snapshotTrailerBytes = 4;

export interface SnapshotFileParts {
  /** Header and meta. */
  readonly head: Uint8Array;
  readonly data: Uint8Array;
  /** The CRC over head and data. */
  readonly trailer: Uint8Array;
}

/** The file in three parts, so a large snapshot's data is written without being copied. */
export function encodeSnapshotFile(meta: SnapshotMeta, data: Uint8Array): SnapshotFileParts {
  const metaBytes = encode(snapshotMetaFields(meta));
  const head = new Uint8Array(snapshotHeaderBytes + metaBytes.length);
  const view = new DataView(head.buffer);
  head.set(magic, 0);
  view.setUint32(8, version, true);
  view.setUint32(12, metaBytes.length, true);
  view.setBigUint64(16, BigInt(data.length), true);
  head.set(metaBytes, snapshotHeaderBytes);
  const trailer = new Uint8Array(snapshotTrailerBytes);
  new DataView(trailer.buffer).setUint32(0, crc32(data, crc32(head)), true);
  return { head, data, trailer };
}

/** Reads a snapshot file; throws an Error saying why it cannot be used. */
export function decodeSnapshotFile(bytes: Uint8Array): { meta: SnapshotMeta; data: Uint8Array } {
  if (bytes.length < snapshotHeaderBytes + snapshotTrailerBytes) {
    throw new Error(`file of ${bytes.length} bytes is shorter than a snapshot header`);
  }
  for (let i = 0; i < magic.length; i++) {
    if (bytes[i] !== magic[i]) throw new Error("not a lockstep snapshot (bad magic)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fileVersion = view.getUint32(8, true);
  if (fileVersion !== version) throw new Error(`unknown snapshot format version ${fileVersion}`);
  const metaLength = view.getUint32(12, true);
  const dataLength = view.getBigUint64(16, true);
  const expected =
    BigInt(snapshotHeaderBytes) + BigInt(metaLength) + dataLength + BigInt(snapshotTrailerBytes);
  if (expected !== BigInt(bytes.length)) {
    throw new Error(`file is ${bytes.length} bytes but its header describes ${expected}`);
  }
  const crcAt = bytes.length - snapshotTrailerBytes;
  if (crc32(bytes.subarray(0, crcAt)) !== view.getUint32(crcAt, true)) {
    throw new Error("checksum mismatch");
  }
  const metaEnd = snapshotHeaderBytes + metaLength;
  let meta: SnapshotMeta;
  try {
    meta = decode(bytes.subarray(snapshotHeaderBytes, metaEnd), snapshotMetaSchema);
  } catch (error) {
    throw new Error(`meta does not decode: ${(error as Error).message}`);
  }
  // A plain Uint8Array view (not a Buffer, not a copy) of the data.
  return { meta, data: new Uint8Array(bytes.buffer, bytes.byteOffset + metaEnd, crcAt - metaEnd) };
}
