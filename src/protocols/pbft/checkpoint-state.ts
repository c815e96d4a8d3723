import { decode, encode } from "../../core/codec.js";
import { value } from "../../core/schema.js";
import type { Value } from "../../core/value.js";
import { type MembershipRecord, membershipValue, readMembership } from "./membership.js";

/**
 * The bytes a checkpoint's state digest covers: the service snapshot, and the membership record
 * when it is not the configured one (a change executed, pending or in effect). So the membership
 * is replicated state like the service's: 2f+1 signed CHECKPOINTs vouch for it, and state
 * transfer delivers it. A cluster that never changed membership checkpoints the service snapshot
 * alone, exactly as before reconfiguration existed.
 *
 * Wrapped form: the codec's encoding of [tag, record, service snapshot]. A service snapshot is an
 * encoded array whose first element is a number (its applied index), never the tag string, so
 * the two forms cannot be mistaken for each other.
 */

const tag = "lockstep/pbft-membership";
const limits = value(512, Number.MAX_SAFE_INTEGER);

/** Whether the record must travel with the state (anything but the configured membership). */
export function isConfigured(record: MembershipRecord): boolean {
  return record.epoch === 0 && record.pending === undefined;
}

export function checkpointData(record: MembershipRecord, service: Uint8Array): Uint8Array {
  if (isConfigured(record)) return service;
  return encode([tag, membershipValue(record), service]);
}

/**
 * Splits checkpoint bytes (verified against a stable checkpoint's digest, or this replica's own)
 * into the membership record (undefined: the configured one) and the service snapshot.
 */
export function splitCheckpointData(
  data: Uint8Array,
  replicaCount: number,
): { readonly record: MembershipRecord | undefined; readonly service: Uint8Array } {
  const decoded = decode(data, limits) as Value;
  if (!Array.isArray(decoded) || decoded[0] !== tag) return { record: undefined, service: data };
  const [, record, service] = decoded as readonly Value[];
  if (decoded.length !== 3 || !(service instanceof Uint8Array) || record === undefined) {
    throw new Error("pbft: checkpoint state with a malformed membership envelope");
  }
  return { record: readMembership(record, replicaCount), service };
}
