import type { DurableState, PersistOp, SnapshotMeta } from "../../core/protocol.js";
import { array, object, SchemaError } from "../../core/schema.js";
import type { Value } from "../../core/value.js";
import type { CheckpointProof, PreparedCertificate, Request } from "./messages.js";
import { checkpointProofSchema, pbftRequestSchema, preparedCertificateSchema } from "./messages.js";

/**
 * What a PBFT replica keeps on stable storage, through the contract's records (no log):
 * - hard state `{ view }`: the highest view it entered or asked for. Written before the first
 *   message of every incarnation, so a replica that restarts knows it may have voted in that
 *   view and moves to the next one before it votes again (it never prepares two digests for one
 *   view and sequence number, even across a crash that lost what it had accepted);
 * - `cert/<seq>`: each prepared certificate with the request bodies of its batch, before the
 *   COMMIT that depends on it is sent, so a request committed at 2f+1 replicas survives a
 *   simultaneous power loss of every replica (the next view change carries it);
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

/** The sequence number of a `cert/<seq>` key, undefined for any other key. */
export function certSeqOf(key: string): number | undefined {
  if (!key.startsWith(certPrefix)) return undefined;
  const seq = Number(key.slice(certPrefix.length));
  return Number.isSafeInteger(seq) ? seq : undefined;
}

/**
 * A certificate with the request bodies its batch names (those this replica holds): after a
 * power loss of every replica the batch is re-issued by the next view change, and it can only
 * execute if some replica still has the requests.
 */
export function certPut(cert: PreparedCertificate, requests: readonly Request[]): PersistOp {
  return {
    type: "put",
    key: certKey(cert.prePrepare.seq),
    value: { cert, requests } as unknown as Value,
  };
}

const certRecordSchema = object({
  cert: preparedCertificateSchema,
  requests: array(pbftRequestSchema, 1 << 12),
});

/** The stored certificates above `low`, checked against the wire schema (a corrupt record throws). */
export function readCertificates(
  durable: DurableState,
  low: number,
): { readonly cert: PreparedCertificate; readonly requests: readonly Request[] }[] {
  const out: { cert: PreparedCertificate; requests: readonly Request[] }[] = [];
  for (const [key, value] of durable.records) {
    if (!key.startsWith(certPrefix)) continue;
    const record = certRecordSchema.parse(value, key) as {
      cert: PreparedCertificate;
      requests: Request[];
    };
    if (record.cert.prePrepare.seq > low) out.push(record);
  }
  return out;
}

/** The checkpoint proof a stored snapshot carries. */
export function readProof(meta: SnapshotMeta): CheckpointProof {
  if (meta.proof === undefined) throw new SchemaError("snapshot.proof", "a checkpoint proof");
  return checkpointProofSchema.parse(meta.proof, "snapshot.proof") as CheckpointProof;
}

export function snapshotMeta(
  proof: CheckpointProof,
  time: number,
  membership: Value,
): SnapshotMeta {
  return {
    index: proof.seq,
    config: membership,
    time,
    digest: proof.stateDigest,
    proof: proof as unknown as Value,
  };
}
