import type { Crypto } from "../../core/crypto.js";
import type { Value } from "../../core/value.js";
import { ByteWriter } from "./canonical.js";
import type {
  Batch,
  Checkpoint,
  Commit,
  Digest,
  Fetch,
  FetchRequests,
  NewView,
  PrePrepare,
  Prepare,
  Reply,
  Request,
  StateChunk,
  ViewChange,
} from "./messages.js";

/**
 * Exactly which bytes PBFT hashes, signs and MACs. Every layout starts with the domain
 * "lockstep-pbft/1" and a kind byte, so bytes authenticated as one kind of message can never be
 * taken for another (a PREPARE's signature is not a COMMIT's, a CHECKPOINT's is not a
 * VIEW-CHANGE's), nor for another protocol's. Each layout names the view where there is one and
 * the sender, so a MAC or signature cannot be replayed in another view or as another replica's.
 *
 * Signatures and MACs are computed over the SHA-256 digest of these bytes (as in Castro's BFT
 * library): one hash, then n short HMACs for an authenticator. Primitive encodings are in
 * canonical.ts. Sub-messages are included as H(their bytes) followed by their signature.
 */
export const pbftDomain = new TextEncoder().encode("lockstep-pbft/1");

export const Kind = {
  request: 0x01,
  batch: 0x02,
  prePrepare: 0x03,
  prepare: 0x04,
  commit: 0x05,
  reply: 0x06,
  result: 0x07,
  checkpoint: 0x08,
  viewChange: 0x09,
  newView: 0x0a,
  fetch: 0x0b,
  stateChunk: 0x0c,
  fetchRequests: 0x0d,
  seed: 0x0e,
  /** The state digest (state-digest.ts); 0x10 and 0x11 are its Merkle leaves and nodes. */
  state: 0x0f,
} as const;

function start(kind: number): ByteWriter {
  return new ByteWriter().raw(pbftDomain).u8(kind);
}

/** domain ‖ 01 ‖ str client ‖ u64 timestamp ‖ u64 ackedBelow ‖ u8 readOnly ‖ value op */
export function requestBytes(r: Omit<Request, "type" | "sig">): Uint8Array {
  return start(Kind.request)
    .str(r.client)
    .u64(r.timestamp)
    .u64(r.ackedBelow)
    .bool(r.readOnly)
    .value(r.op)
    .finish();
}

/** The request digest D(m): what batches list and what the client signs. */
export function requestDigest(crypto: Crypto, r: Omit<Request, "type" | "sig">): Digest {
  return crypto.digest(requestBytes(r));
}

/** domain ‖ 02 ‖ u64 time ‖ u32 count ‖ count × 32-byte request digests */
export function batchBytes(b: Batch): Uint8Array {
  const w = start(Kind.batch).u64(b.time).u32(b.requests.length);
  for (const d of b.requests) w.raw(checkDigest(d));
  return w.finish();
}

/** The digest a sequence number is bound to: PRE-PREPARE's d. */
export function batchDigest(crypto: Crypto, b: Batch): Digest {
  return crypto.digest(batchBytes(b));
}

/** The null request of a NEW-VIEW gap (OSDI'99 §4.4): no requests, time 0. */
export const nullBatch: Batch = { time: 0, requests: [] };

/** domain ‖ 03 ‖ u64 view ‖ u64 seq ‖ 32 batch digest ‖ u32 replica (inline requests are not covered) */
export function prePrepareBytes(
  p: Pick<PrePrepare, "view" | "seq" | "replica">,
  digest: Digest,
): Uint8Array {
  return start(Kind.prePrepare)
    .u64(p.view)
    .u64(p.seq)
    .raw(checkDigest(digest))
    .u32(p.replica)
    .finish();
}

/** domain ‖ 04 ‖ u64 view ‖ u64 seq ‖ 32 digest ‖ u32 replica */
export function prepareBytes(p: Omit<Prepare, "type" | "sig">): Uint8Array {
  return slotVote(Kind.prepare, p);
}

/** domain ‖ 05 ‖ u64 view ‖ u64 seq ‖ 32 digest ‖ u32 replica */
export function commitBytes(c: Omit<Commit, "type" | "auth">): Uint8Array {
  return slotVote(Kind.commit, c);
}

function slotVote(
  kind: number,
  v: { view: number; seq: number; digest: Digest; replica: number },
): Uint8Array {
  return start(kind).u64(v.view).u64(v.seq).raw(checkDigest(v.digest)).u32(v.replica).finish();
}

/** domain ‖ 07 ‖ value result */
export function resultBytes(result: Value): Uint8Array {
  return start(Kind.result).value(result).finish();
}

export function resultDigest(crypto: Crypto, result: Value): Digest {
  return crypto.digest(resultBytes(result));
}

/**
 * domain ‖ 06 ‖ u64 view ‖ u64 timestamp ‖ str client ‖ u32 replica ‖ u8 tentative ‖ 32 result
 * digest [‖ u64 epoch ‖ u32 count ‖ u32 member…, when the reply carries a membership]
 */
export function replyBytes(
  r: Pick<
    Reply,
    "view" | "timestamp" | "client" | "replica" | "tentative" | "resultDigest" | "config"
  >,
): Uint8Array {
  const w = start(Kind.reply)
    .u64(r.view)
    .u64(r.timestamp)
    .str(r.client)
    .u32(r.replica)
    .bool(r.tentative)
    .raw(checkDigest(r.resultDigest));
  // The membership only after a change (replies of a cluster that never changed are as before).
  if (r.config) {
    w.u64(r.config.epoch).u32(r.config.members.length);
    for (const m of r.config.members) w.u32(m);
  }
  return w.finish();
}

/** domain ‖ 08 ‖ u64 seq ‖ 32 state digest ‖ u32 replica */
export function checkpointBytes(c: Omit<Checkpoint, "type" | "sig">): Uint8Array {
  return start(Kind.checkpoint).u64(c.seq).raw(checkDigest(c.stateDigest)).u32(c.replica).finish();
}

/**
 * domain ‖ 09 ‖ u64 view ‖ u32 replica ‖ u64 checkpoint seq ‖ 32 state digest
 *   ‖ u32 proof count ‖ per CHECKPOINT: 32 H(checkpointBytes) ‖ bytes sig
 *   ‖ u32 certificate count ‖ per certificate:
 *       32 H(prePrepareBytes) ‖ 32 batch digest ‖ bytes sig ‖ u32 prepare count
 *       ‖ per PREPARE: 32 H(prepareBytes) ‖ bytes sig
 * The batch digest is recomputed from the certificate's batch, so the signature covers the batch.
 */
export function viewChangeBytes(crypto: Crypto, v: Omit<ViewChange, "type" | "sig">): Uint8Array {
  const w = start(Kind.viewChange)
    .u64(v.view)
    .u32(v.replica)
    .u64(v.checkpoint.seq)
    .raw(checkDigest(v.checkpoint.stateDigest))
    .u32(v.checkpoint.proof.length);
  for (const c of v.checkpoint.proof) w.raw(crypto.digest(checkpointBytes(c))).bytes(c.sig);
  w.u32(v.prepared.length);
  for (const cert of v.prepared) {
    const pp = cert.prePrepare;
    const d = batchDigest(crypto, pp.batch);
    w.raw(crypto.digest(prePrepareBytes(pp, d)))
      .raw(d)
      .bytes(pp.sig);
    w.u32(cert.prepares.length);
    for (const p of cert.prepares) w.raw(crypto.digest(prepareBytes(p))).bytes(p.sig);
  }
  return w.finish();
}

/**
 * domain ‖ 0a ‖ u64 view ‖ u32 replica
 *   ‖ u32 view-change count ‖ per VIEW-CHANGE: 32 H(viewChangeBytes) ‖ bytes sig
 *   ‖ u32 pre-prepare count ‖ per PRE-PREPARE: 32 H(prePrepareBytes) ‖ 32 batch digest ‖ bytes sig
 */
export function newViewBytes(crypto: Crypto, n: Omit<NewView, "type" | "sig">): Uint8Array {
  const w = start(Kind.newView).u64(n.view).u32(n.replica).u32(n.viewChanges.length);
  for (const v of n.viewChanges) w.raw(crypto.digest(viewChangeBytes(crypto, v))).bytes(v.sig);
  w.u32(n.prePrepares.length);
  for (const pp of n.prePrepares) {
    const d = batchDigest(crypto, pp.batch);
    w.raw(crypto.digest(prePrepareBytes(pp, d)))
      .raw(d)
      .bytes(pp.sig);
  }
  return w.finish();
}

/** domain ‖ 0b ‖ u32 replica ‖ u64 seq ‖ 32 state digest ‖ u64 chunk */
export function fetchBytes(f: Omit<Fetch, "type" | "mac">): Uint8Array {
  return start(Kind.fetch)
    .u32(f.replica)
    .u64(f.seq)
    .raw(checkDigest(f.stateDigest))
    .u64(f.chunk)
    .finish();
}

/**
 * domain ‖ 0c ‖ u32 replica ‖ u64 seq ‖ 32 state digest ‖ u64 chunk ‖ u64 chunks ‖ u64 total
 *   ‖ 32 H(data) ‖ u32 path length ‖ path digests
 */
export function stateChunkBytes(crypto: Crypto, c: Omit<StateChunk, "type" | "mac">): Uint8Array {
  const w = start(Kind.stateChunk)
    .u32(c.replica)
    .u64(c.seq)
    .raw(checkDigest(c.stateDigest))
    .u64(c.chunk)
    .u64(c.chunks)
    .u64(c.total)
    .raw(crypto.digest(c.data))
    .u32(c.path.length);
  for (const d of c.path) w.raw(checkDigest(d));
  return w.finish();
}

/** domain ‖ 0d ‖ u32 replica ‖ u32 count ‖ count × 32 digests */
export function fetchRequestsBytes(f: Omit<FetchRequests, "type" | "mac">): Uint8Array {
  const w = start(Kind.fetchRequests).u32(f.replica).u32(f.digests.length);
  for (const d of f.digests) w.raw(checkDigest(d));
  return w.finish();
}

/** domain ‖ 0e ‖ u64 seq ‖ 32 batch digest (see nondeterminism.ts) */
export function seedBytes(seq: number, digest: Digest): Uint8Array {
  return start(Kind.seed).u64(seq).raw(checkDigest(digest)).finish();
}

/** domain ‖ 0f ‖ u64 seq ‖ u64 total bytes ‖ u32 chunk count ‖ count × 32 chunk digests */
export function stateBytes(
  seq: number,
  total: number,
  chunkDigests: readonly Digest[],
): Uint8Array {
  const w = start(Kind.state).u64(seq).u64(total).u32(chunkDigests.length);
  for (const d of chunkDigests) w.raw(checkDigest(d));
  return w.finish();
}

function checkDigest(d: Digest): Digest {
  if (d.length !== 32) throw new RangeError(`digest of ${d.length} bytes, expected 32`);
  return d;
}
