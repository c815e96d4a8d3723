import type { DurableState, PersistOp, SnapshotMeta } from "../../core/protocol.js";
import { SchemaError } from "../../core/schema.js";
import type { Value } from "../../core/value.js";
import type { CheckpointProof, PreparedCertificate } from "./messages.js";
import { checkpointProofSchema, preparedCertificateSchema } from "./messages.js";

/**
 * What a PBFT replica keeps on stable storage, through the contract's records (no log):
 * - hard state `{ view }`: the highest view it entered or asked for. Written before the first
 *   message of every incarnation, so a replica that restarts knows it may have voted in that
 *   view and moves to the next one before it votes again (it never prepares two digests for one
 *   view and sequence number, even across a crash that lost what it had accepted);
 * - `cert/<seq>`: each prepared certificate, before the COMMIT that depends on it is sent, so
 *   a request committed at 2f+1 replicas survives a simultaneous power loss of every replica
 *   (the next view change carries it);
 * - the snapshot of each stable checkpoint, with its proof in `SnapshotMeta.proof`; writing it
 *   deletes the certificates it covers.
 */

export interface PbftHardState {
  readonly view: number;
}

export function hardStateOp(view: number): PersistOp {
  return { type: "hardState", state: { view } };
}

export function readHardState(state: Value | undefined): PbftHardState | undefined {
  if (state === undefined || state === null) return undefined;
  const view = (state as { view?: Value }).view;
  if (typeof view !== "number" || !Number.isSafeInteger(view) || view < 0) {
    throw new Error(`pbft: stored hard state is not { view }: ${JSON.stringify(state)}`);
  }
  return { view };
}

const certPrefix = "cert/";

/** Zero-padded so records sort by sequence number. */
export function certKey(seq: number): string {
  return `${certPrefix}${seq.toString().padStart(16, "0")}`;
}

export function certPut(cert: PreparedCertificate): PersistOp {
  return { type: "put", key: certKey(cert.prePrepare.seq), value: cert as unknown as Value };
}

/** The stored certificates above `low`, checked against the wire schema (a corrupt record throws). */
export function readCertificates(durable: DurableState, low: number): PreparedCertificate[] {
  const out: PreparedCertificate[] = [];
  for (const [key, value] of durable.records) {
    if (!key.startsWith(certPrefix)) continue;
    const cert = preparedCertificateSchema.parse(value, key) as PreparedCertificate;
    if (cert.prePrepare.seq > low) out.push(cert);
  }
  return out;
}

/** The checkpoint proof a stored snapshot carries. */
export function readProof(meta: SnapshotMeta): CheckpointProof {
  if (meta.proof === undefined) throw new SchemaError("snapshot.proof", "a checkpoint proof");
  return checkpointProofSchema.parse(meta.proof, "snapshot.proof") as CheckpointProof;
}

export function snapshotMeta(proof: CheckpointProof, time: number, n: number): SnapshotMeta {
  return {
    index: proof.seq,
    config: { n },
    time,
    digest: proof.stateDigest,
    proof: proof as unknown as Value,
  };
}
