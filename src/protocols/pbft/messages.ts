import type { ClientId, ReplicaId } from "../../core/ids.js";
import {
  array,
  bool,
  bytes,
  int,
  literal,
  object,
  optional,
  type Schema,
  SchemaError,
  str,
  tagged,
  value,
} from "../../core/schema.js";
import type { Value } from "../../core/value.js";

/**
 * PBFT's wire messages (Castro & Liskov, OSDI'99 §4; TOCS 2002 §4–§5), as plain data.
 *
 * How each message is authenticated (see signed-bytes.ts for the exact bytes):
 * - REQUEST: signed by the client (Ed25519) and carrying a MAC authenticator (one HMAC per
 *   replica). Whoever must vouch for a request first checks the signature: the primary before it
 *   orders one, any replica taking one straight from a client or a peer (it may hold it for its
 *   request timer). A signature verifies the same at every replica, which is the defence against
 *   the "big MAC" attack (an authenticator that verifies at some replicas and not others,
 *   Clement et al. NSDI'09). A backup checking a request inside a PRE-PREPARE, and a replica
 *   answering a read-only request, check their own MAC entry instead, and the signature only when
 *   that entry fails: a faulty primary cannot forge or alter a request either way.
 * - PRE-PREPARE and PREPARE: signed. They are the parts of a prepared certificate, which travels
 *   inside VIEW-CHANGE messages and must convince third parties (the signature variant of the
 *   view change, OSDI'99 §4.4). Batching amortizes the cost over every request of a batch.
 * - COMMIT: a MAC authenticator (one HMAC per replica); commits are never forwarded.
 * - REPLY, FETCH, STATE-CHUNK, FETCH-REQUESTS: one MAC for the single receiver.
 * - CHECKPOINT, VIEW-CHANGE, NEW-VIEW: signed; they are forwarded as proofs.
 *
 * The client's `timestamp` is PBFT's t: it orders one client's requests and makes them
 * exactly-once (lockstep's session sequence number). The slot's `seq` is PBFT's n.
 */

/** A 32-byte SHA-256 digest. */
export type Digest = Uint8Array;

export interface Request {
  readonly type: "request";
  readonly client: ClientId;
  readonly timestamp: number;
  /** The client holds the replies of every timestamp below this; replicas may forget them. */
  readonly ackedBelow: number;
  /** Executed on the current state without ordering (OSDI'99 §5.1.3). */
  readonly readOnly: boolean;
  readonly op: Value;
  /** The client's signature over requestBytes. */
  readonly sig: Uint8Array;
  /**
   * The client's MAC authenticator over requestBytes: entry i is the HMAC for replica i (TOCS
   * §3.2). A backup checks its own entry for a request inside a PRE-PREPARE instead of the
   * signature; see `verifyRequestAt`. Absent or wrong entries fall back to the signature.
   */
  readonly auth?: readonly Uint8Array[];
}

/**
 * What a sequence number is bound to: the requests (by digest) and the nondeterministic value the
 * primary proposed for them (§4.6). A batch with no requests is the null request.
 */
export interface Batch {
  /** The primary's proposed time in milliseconds; 0 in a null request. */
  readonly time: number;
  readonly requests: readonly Digest[];
}

export interface PrePrepare {
  readonly type: "preprepare";
  readonly view: number;
  readonly seq: number;
  readonly batch: Batch;
  /** The primary of `view`, who signed. */
  readonly replica: ReplicaId;
  readonly sig: Uint8Array;
  /**
   * Small requests piggybacked for convenience; not signed (each request carries its client's
   * signature and is bound by digest). Large ones travel as separate REQUEST messages. Empty
   * inside certificates.
   */
  readonly inline: readonly Request[];
}

export interface Prepare {
  readonly type: "prepare";
  readonly view: number;
  readonly seq: number;
  /** The batch digest. */
  readonly digest: Digest;
  readonly replica: ReplicaId;
  readonly sig: Uint8Array;
}

export interface Commit {
  readonly type: "commit";
  readonly view: number;
  readonly seq: number;
  readonly digest: Digest;
  readonly replica: ReplicaId;
  /** MAC authenticator: entry i is the HMAC for replica i; the sender's own entry is empty. */
  readonly auth: readonly Uint8Array[];
}

/** A membership as replies carry it: the number of changes in effect and the members. */
export interface ReplyConfig {
  readonly epoch: number;
  readonly members: readonly ReplicaId[];
}

export interface Reply {
  readonly type: "reply";
  readonly view: number;
  readonly timestamp: number;
  readonly client: ClientId;
  readonly replica: ReplicaId;
  /** Sent once prepared, before commit (OSDI'99 §5.1.2). */
  readonly tentative: boolean;
  /** Digest of the result (resultDigest); always present, it is what clients vote on. */
  readonly resultDigest: Digest;
  /** Whether `result` holds the full result; digest replies (§5.1.1) carry null. */
  readonly full: boolean;
  readonly result: Value;
  /**
   * The replica's membership when it is not the configured one (a change took effect): clients
   * learn it from f+1 members they know (client.ts) and count only members' replies.
   */
  readonly config?: ReplyConfig;
  /** HMAC for the client. */
  readonly mac: Uint8Array;
}

export interface Checkpoint {
  readonly type: "checkpoint";
  readonly seq: number;
  readonly stateDigest: Digest;
  readonly replica: ReplicaId;
  readonly sig: Uint8Array;
}

/** 2f+1 matching CHECKPOINT messages: what makes a checkpoint stable, forwardable as proof. */
export interface CheckpointProof {
  readonly seq: number;
  readonly stateDigest: Digest;
  /** Empty for the initial checkpoint (seq 0), whose digest every replica knows. */
  readonly proof: readonly Checkpoint[];
}

/** A pre-prepare and 2f matching prepares from distinct backups (OSDI'99 §4.2). */
export interface PreparedCertificate {
  readonly prePrepare: PrePrepare;
  readonly prepares: readonly Prepare[];
}

export interface ViewChange {
  readonly type: "viewchange";
  /** The view the sender moves to (v+1 in the paper). */
  readonly view: number;
  readonly replica: ReplicaId;
  /** The sender's latest stable checkpoint, with its proof. */
  readonly checkpoint: CheckpointProof;
  /** For each sequence number above the checkpoint that prepared at the sender: the certificate of the highest view. */
  readonly prepared: readonly PreparedCertificate[];
  readonly sig: Uint8Array;
}

export interface NewView {
  readonly type: "newview";
  readonly view: number;
  /** The primary of `view`. */
  readonly replica: ReplicaId;
  /** The 2f+1 view-changes the primary chose (V). */
  readonly viewChanges: readonly ViewChange[];
  /** The re-issued pre-prepares for (min-s, max-s], null requests for the gaps (O). */
  readonly prePrepares: readonly PrePrepare[];
  readonly sig: Uint8Array;
}

/**
 * State transfer, first part: ask for chunk `chunk` of the snapshot at the stable checkpoint
 * (`seq`, `stateDigest`) that a checkpoint proof vouches for.
 */
export interface Fetch {
  readonly type: "fetch";
  readonly replica: ReplicaId;
  readonly seq: number;
  readonly stateDigest: Digest;
  readonly chunk: number;
  readonly mac: Uint8Array;
}

/**
 * One chunk of a snapshot with its Merkle path: the fetcher checks it against `stateDigest` on
 * arrival (state-digest.ts), so a faulty server is caught at the first bad chunk.
 */
export interface StateChunk {
  readonly type: "statechunk";
  readonly replica: ReplicaId;
  readonly seq: number;
  readonly stateDigest: Digest;
  readonly chunk: number;
  readonly chunks: number;
  /** Snapshot size in bytes. */
  readonly total: number;
  readonly data: Uint8Array;
  readonly path: readonly Digest[];
  readonly mac: Uint8Array;
}

/** Ask a replica for requests known only by digest (a batch whose requests did not arrive). Answered with REQUEST messages, which authenticate themselves. */
export interface FetchRequests {
  readonly type: "fetchrequests";
  readonly replica: ReplicaId;
  readonly digests: readonly Digest[];
  readonly mac: Uint8Array;
}

export type PbftReplicaMessage =
  | Request
  | PrePrepare
  | Prepare
  | Commit
  | Checkpoint
  | ViewChange
  | NewView
  | Fetch
  | StateChunk
  | FetchRequests;

/** Bounds on untrusted PBFT messages; anything larger fails its schema. */
export const pbftMessageLimits = {
  maxReplicas: 1024,
  maxClientIdLength: 64,
  maxRequestsPerBatch: 1 << 12,
  maxInlineRequests: 1 << 8,
  /** Prepared certificates in one VIEW-CHANGE: at most the window L. */
  maxPreparedPerViewChange: 1 << 12,
  maxChunkBytes: 1 << 24,
  maxChunks: 1 << 20,
  maxSnapshotBytes: 2 ** 40,
  maxFetchDigests: 1 << 12,
} as const;

const L = pbftMessageLimits;
const nat = int(0);
const replicaId = int(0, L.maxReplicas - 1);

/** Digests, signatures and single MACs have one valid length; anything else is refused at the edge. */
function exactBytes(size: number): Schema<Uint8Array> {
  const inner = bytes(size);
  const describe = `exactly ${size} bytes`;
  return {
    describe,
    parse(input, path = "") {
      const b = inner.parse(input, path);
      if (b.length !== size) throw new SchemaError(path, describe);
      return b;
    },
  };
}

const digest32 = exactBytes(32);
const sig64 = exactBytes(64);
const mac32 = exactBytes(32);

const requestShape = {
  client: str(L.maxClientIdLength),
  timestamp: nat,
  ackedBelow: nat,
  readOnly: bool(),
  op: value(),
  sig: sig64,
  auth: optional(array(mac32, L.maxReplicas)),
};
const requestSchema = object({ type: literal("request"), ...requestShape });

/** Schema for what a client sends a replica: one signed REQUEST. */
export const pbftRequestSchema: Schema<Request> = requestSchema as Schema<Request>;

const batchSchema = object({
  time: nat,
  requests: array(digest32, L.maxRequestsPerBatch),
});

function prePrepareShape(maxInline: number) {
  return {
    view: nat,
    seq: int(1),
    batch: batchSchema,
    replica: replicaId,
    sig: sig64,
    inline: array(requestSchema, maxInline),
  };
}

const prepareShape = { view: nat, seq: int(1), digest: digest32, replica: replicaId, sig: sig64 };
const checkpointShape = { seq: nat, stateDigest: digest32, replica: replicaId, sig: sig64 };

/** Inside certificates and NEW-VIEW, pre-prepares carry no piggybacked requests. */
const barePrePrepareSchema = object({
  type: literal("preprepare"),
  ...prePrepareShape(0),
});
const prepareSchema = object({ type: literal("prepare"), ...prepareShape });
const checkpointSchema = object({ type: literal("checkpoint"), ...checkpointShape });

export const checkpointProofSchema = object({
  seq: nat,
  stateDigest: digest32,
  proof: array(checkpointSchema, L.maxReplicas),
});

export const preparedCertificateSchema = object({
  prePrepare: barePrePrepareSchema,
  prepares: array(prepareSchema, L.maxReplicas),
});

const viewChangeShape = {
  view: nat,
  replica: replicaId,
  checkpoint: checkpointProofSchema,
  prepared: array(preparedCertificateSchema, L.maxPreparedPerViewChange),
  sig: sig64,
};
const viewChangeSchema = object({ type: literal("viewchange"), ...viewChangeShape });

/** Schema for every message a replica may receive from a replica or a client. */
export const pbftReplicaMessageSchema: Schema<PbftReplicaMessage> = tagged({
  request: requestShape,
  preprepare: prePrepareShape(L.maxInlineRequests),
  prepare: prepareShape,
  commit: {
    view: nat,
    seq: int(1),
    digest: digest32,
    replica: replicaId,
    auth: array(bytes(32), L.maxReplicas),
  },
  checkpoint: checkpointShape,
  viewchange: viewChangeShape,
  newview: {
    view: nat,
    replica: replicaId,
    viewChanges: array(viewChangeSchema, L.maxReplicas),
    prePrepares: array(barePrePrepareSchema, L.maxPreparedPerViewChange),
    sig: sig64,
  },
  fetch: { replica: replicaId, seq: nat, stateDigest: digest32, chunk: nat, mac: mac32 },
  statechunk: {
    replica: replicaId,
    seq: nat,
    stateDigest: digest32,
    chunk: nat,
    chunks: int(1, L.maxChunks),
    total: int(0, L.maxSnapshotBytes),
    data: bytes(L.maxChunkBytes),
    path: array(digest32, 64),
    mac: mac32,
  },
  fetchrequests: {
    replica: replicaId,
    digests: array(digest32, L.maxFetchDigests),
    mac: mac32,
  },
}) as Schema<PbftReplicaMessage>;

/** Schema for what a client receives. */
export const pbftReplySchema: Schema<Reply> = object({
  type: literal("reply"),
  view: nat,
  timestamp: nat,
  client: str(L.maxClientIdLength),
  replica: replicaId,
  tentative: bool(),
  resultDigest: digest32,
  full: bool(),
  result: value(),
  config: optional(object({ epoch: nat, members: array(replicaId, L.maxReplicas) })),
  mac: mac32,
}) as Schema<Reply>;
