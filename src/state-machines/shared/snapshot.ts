import { value } from "../../core/schema.js";
import type { Value } from "../../core/value.js";
import { DecodeError, decode, encodeCanonical } from "../../platform/codec.js";
import { crc32 } from "./crc32.js";
import { isValueRecord, preview } from "./values.js";

/** A snapshot that is damaged, truncated, from another service or from an unknown version. */
export class SnapshotError extends Error {
  override readonly name = "SnapshotError";
}

const CHECKSUM_BYTES = 4;

/**
 * Snapshots are as large as the state: the codec's default limit on items (meant for network
 * messages) would refuse a store with a few hundred thousand keys that snapshot() happily
 * wrote. Depth stays bounded (no service nests deeper than a few levels) so that a crafted
 * snapshot cannot exhaust the stack; each service then checks its state field by field.
 */
const SNAPSHOT_SCHEMA = value(8, Number.MAX_SAFE_INTEGER);

/**
 * Snapshot layout shared by the example services: the canonical MessagePack encoding of
 * `{ service, version, state }` followed by a 4-byte big-endian CRC-32 of those bytes.
 *
 * Canonical encoding (sorted object keys) plus a state the caller builds in a fixed order makes
 * equal states give equal bytes, so replicas can compare snapshot digests. The service name and
 * version keep a snapshot from being restored into the wrong service or a newer format.
 */
export function sealSnapshot(service: string, version: number, state: Value): Uint8Array {
  const body = encodeCanonical({ service, version, state });
  const out = new Uint8Array(body.length + CHECKSUM_BYTES);
  out.set(body, 0);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(body.length, crc32(body));
  return out;
}

/**
 * Checks the checksum and the envelope and returns the service's state value, which the caller
 * must still validate field by field. Throws SnapshotError; never returns partial data.
 */
export function openSnapshot(service: string, version: number, bytes: Uint8Array): Value {
  if (!(bytes instanceof Uint8Array) || bytes.length <= CHECKSUM_BYTES) {
    throw new SnapshotError(`${service} snapshot: too short to be a snapshot`);
  }
  const bodyLength = bytes.length - CHECKSUM_BYTES;
  const body = bytes.subarray(0, bodyLength);
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(
    bodyLength,
  );
  if (stored !== crc32(body)) {
    throw new SnapshotError(`${service} snapshot: checksum mismatch (corrupt or truncated)`);
  }
  let envelope: Value;
  try {
    envelope = decode(body, SNAPSHOT_SCHEMA);
  } catch (error) {
    if (error instanceof DecodeError) {
      throw new SnapshotError(`${service} snapshot: ${error.message}`, { cause: error });
    }
    throw error;
  }
  if (!isValueRecord(envelope)) throw new SnapshotError(`${service} snapshot: not an envelope`);
  if (envelope.service !== service) {
    throw new SnapshotError(`${service} snapshot: belongs to service ${preview(envelope.service)}`);
  }
  if (envelope.version !== version) {
    throw new SnapshotError(
      `${service} snapshot: unsupported version ${preview(envelope.version)} (expected ${version})`,
    );
  }
  const keys = Object.keys(envelope);
  const state = envelope.state;
  if (keys.length !== 3 || state === undefined) {
    throw new SnapshotError(
      `${service} snapshot: envelope must hold exactly service, version, state`,
    );
  }
  return state;
}
