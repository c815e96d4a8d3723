import {
  type Crypto,
  clientPrincipal,
  equalBytes,
  type Principal,
  replicaPrincipal,
} from "../../core/crypto.js";
import type { ReplicaId } from "../../core/ids.js";
import type { Value } from "../../core/value.js";
import type {
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
import {
  batchDigest,
  checkpointBytes,
  commitBytes,
  fetchBytes,
  fetchRequestsBytes,
  newViewBytes,
  prePrepareBytes,
  prepareBytes,
  replyBytes,
  requestBytes,
  resultDigest,
  stateChunkBytes,
  viewChangeBytes,
} from "./signed-bytes.js";

/**
 * Who vouches for a message: MAC authenticators, single MACs and signatures over the bytes of
 * signed-bytes.ts. Cores never hold keys; they name the peer and `Crypto` picks the key.
 * Everything authenticates SHA-256(bytes): one hash per message, then short HMACs or one signature.
 */

/** Why a message failed authentication (for the "dropped and counted" metrics). */
export type AuthFailure =
  /** A signature or MAC that does not verify for the claimed sender. */
  | "bad-signature"
  | "bad-mac"
  /** A MAC authenticator without a well-formed entry for this receiver. */
  | "no-entry"
  /** A reply whose full result does not hash to the digest it claims. */
  | "result-mismatch";

export type AuthCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: AuthFailure };

const ok: AuthCheck = { ok: true };
const fail = (reason: AuthFailure): AuthCheck => ({ ok: false, reason });

// --- primitives -----------------------------------------------------------------------------

/**
 * A MAC authenticator (OSDI'99 §4; TOCS §3.2): entry i is HMAC(k(self,i), H(bytes)) for every
 * replica i ≠ self; the sender's own entry is empty. n HMACs of 32 bytes, one hash.
 */
export function makeAuthenticator(
  crypto: Crypto,
  self: ReplicaId,
  n: number,
  bytes: Uint8Array,
): Uint8Array[] {
  const h = crypto.digest(bytes);
  const auth: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    auth.push(i === self ? new Uint8Array(0) : crypto.mac(replicaPrincipal(i), h));
  }
  return auth;
}

/** Checks only this receiver's entry: the one thing it can check (the others' keys are not its). */
export function verifyAuthenticator(
  crypto: Crypto,
  self: ReplicaId,
  sender: ReplicaId,
  bytes: Uint8Array,
  auth: readonly Uint8Array[],
): AuthCheck {
  const entry = auth[self];
  if (sender === self || entry === undefined || entry.length !== 32) return fail("no-entry");
  return crypto.verifyMac(replicaPrincipal(sender), crypto.digest(bytes), entry)
    ? ok
    : fail("bad-mac");
}

/** One MAC for one receiver (replies, state transfer). */
export function makeMac(crypto: Crypto, receiver: Principal, bytes: Uint8Array): Uint8Array {
  return crypto.mac(receiver, crypto.digest(bytes));
}

export function verifyMac(
  crypto: Crypto,
  sender: Principal,
  bytes: Uint8Array,
  tag: Uint8Array,
): AuthCheck {
  return crypto.verifyMac(sender, crypto.digest(bytes), tag) ? ok : fail("bad-mac");
}

/** An Ed25519 signature by this node over H(bytes). */
export function signBytes(crypto: Crypto, bytes: Uint8Array): Uint8Array {
  return crypto.sign(crypto.digest(bytes));
}

export function verifySignature(
  crypto: Crypto,
  signer: Principal,
  bytes: Uint8Array,
  sig: Uint8Array,
): AuthCheck {
  return crypto.verify(signer, crypto.digest(bytes), sig) ? ok : fail("bad-signature");
}

// --- messages -------------------------------------------------------------------------------
// make*/sign* build a message from its fields; verify* check it against the sender it names.

/**
 * The client's REQUEST: its signature, and with `replicas` > 0 a MAC authenticator with one
 * entry per replica (entry i under the key the client shares with replica i), over one hash.
 */
export function signRequest(
  crypto: Crypto,
  r: Omit<Request, "type" | "sig" | "auth">,
  replicas = 0,
): Request {
  const h = crypto.digest(requestBytes(r));
  const sig = crypto.sign(h);
  if (replicas === 0) return { type: "request", ...r, sig };
  const auth: Uint8Array[] = [];
  for (let i = 0; i < replicas; i++) auth.push(crypto.mac(replicaPrincipal(i), h));
  return { type: "request", ...r, sig, auth };
}

/** Checks the client's signature; a primary that altered any field cannot make it verify. */
export function verifyRequest(crypto: Crypto, r: Request): AuthCheck {
  return verifySignature(crypto, clientPrincipal(r.client), requestBytes(r), r.sig);
}

/**
 * Replica `self`'s check of a request it does not vouch for first (inside a PRE-PREPARE, or a
 * read-only request it answers itself): its own authenticator entry, which only the client could
 * have made, and the signature only if that entry is missing or wrong. So a client whose entries
 * are bad for some replicas costs them a signature check but splits nobody.
 */
export function verifyRequestAt(crypto: Crypto, self: ReplicaId, r: Request): AuthCheck {
  const entry = r.auth?.[self];
  if (
    entry !== undefined &&
    entry.length === 32 &&
    crypto.verifyMac(clientPrincipal(r.client), crypto.digest(requestBytes(r)), entry)
  ) {
    return ok;
  }
  return verifyRequest(crypto, r);
}

export function signPrePrepare(
  crypto: Crypto,
  p: Pick<PrePrepare, "view" | "seq" | "batch" | "replica">,
  inline: readonly Request[] = [],
): PrePrepare {
  const sig = signBytes(crypto, prePrepareBytes(p, batchDigest(crypto, p.batch)));
  return { type: "preprepare", ...p, sig, inline };
}

/** On success also returns the batch digest, computed here and never taken from the sender. */
export function verifyPrePrepare(
  crypto: Crypto,
  p: PrePrepare,
):
  | { readonly ok: true; readonly digest: Digest }
  | { readonly ok: false; readonly reason: AuthFailure } {
  const digest = batchDigest(crypto, p.batch);
  const check = verifySignature(
    crypto,
    replicaPrincipal(p.replica),
    prePrepareBytes(p, digest),
    p.sig,
  );
  return check.ok ? { ok: true, digest } : check;
}

export function signPrepare(crypto: Crypto, p: Omit<Prepare, "type" | "sig">): Prepare {
  return { type: "prepare", ...p, sig: signBytes(crypto, prepareBytes(p)) };
}

export function verifyPrepare(crypto: Crypto, p: Prepare): AuthCheck {
  return verifySignature(crypto, replicaPrincipal(p.replica), prepareBytes(p), p.sig);
}

export function makeCommit(crypto: Crypto, n: number, c: Omit<Commit, "type" | "auth">): Commit {
  return { type: "commit", ...c, auth: makeAuthenticator(crypto, c.replica, n, commitBytes(c)) };
}

export function verifyCommit(crypto: Crypto, self: ReplicaId, c: Commit): AuthCheck {
  return verifyAuthenticator(crypto, self, c.replica, commitBytes(c), c.auth);
}

/** A reply; `full` false makes a digest reply (OSDI'99 §5.1.1) that still names the result digest. */
export function makeReply(
  crypto: Crypto,
  r: Pick<Reply, "view" | "timestamp" | "client" | "replica" | "tentative" | "config">,
  result: Value,
  full: boolean,
): Reply {
  const fields = { ...r, resultDigest: resultDigest(crypto, result) };
  const mac = makeMac(crypto, clientPrincipal(r.client), replyBytes(fields));
  return { type: "reply", ...fields, full, result: full ? result : null, mac };
}

/** Client side: the replica's MAC, and that a full result hashes to the digest it claims. */
export function verifyReply(crypto: Crypto, r: Reply): AuthCheck {
  const check = verifyMac(crypto, replicaPrincipal(r.replica), replyBytes(r), r.mac);
  if (!check.ok) return check;
  if (r.full ? !equalBytes(resultDigest(crypto, r.result), r.resultDigest) : r.result !== null) {
    return fail("result-mismatch");
  }
  return ok;
}

export function signCheckpoint(crypto: Crypto, c: Omit<Checkpoint, "type" | "sig">): Checkpoint {
  return { type: "checkpoint", ...c, sig: signBytes(crypto, checkpointBytes(c)) };
}

export function verifyCheckpoint(crypto: Crypto, c: Checkpoint): AuthCheck {
  return verifySignature(crypto, replicaPrincipal(c.replica), checkpointBytes(c), c.sig);
}

export function signViewChange(crypto: Crypto, v: Omit<ViewChange, "type" | "sig">): ViewChange {
  return { type: "viewchange", ...v, sig: signBytes(crypto, viewChangeBytes(crypto, v)) };
}

/** The sender's signature only; view-change.ts checks the proofs inside. */
export function verifyViewChangeSignature(crypto: Crypto, v: ViewChange): AuthCheck {
  return verifySignature(crypto, replicaPrincipal(v.replica), viewChangeBytes(crypto, v), v.sig);
}

export function signNewView(crypto: Crypto, n: Omit<NewView, "type" | "sig">): NewView {
  return { type: "newview", ...n, sig: signBytes(crypto, newViewBytes(crypto, n)) };
}

export function verifyNewViewSignature(crypto: Crypto, n: NewView): AuthCheck {
  return verifySignature(crypto, replicaPrincipal(n.replica), newViewBytes(crypto, n), n.sig);
}

// State transfer and request fetching: point to point, one MAC for the receiver. `replica` is
// the sender; the receiver checks the MAC under the key it shares with that sender.

export function makeFetch(crypto: Crypto, to: ReplicaId, f: Omit<Fetch, "type" | "mac">): Fetch {
  return { type: "fetch", ...f, mac: makeMac(crypto, replicaPrincipal(to), fetchBytes(f)) };
}

export function verifyFetch(crypto: Crypto, f: Fetch): AuthCheck {
  return verifyMac(crypto, replicaPrincipal(f.replica), fetchBytes(f), f.mac);
}

export function makeStateChunk(
  crypto: Crypto,
  to: ReplicaId,
  c: Omit<StateChunk, "type" | "mac">,
): StateChunk {
  const mac = makeMac(crypto, replicaPrincipal(to), stateChunkBytes(crypto, c));
  return { type: "statechunk", ...c, mac };
}

/** The MAC only; state-digest.ts's verifyChunk checks the data against the state digest. */
export function verifyStateChunk(crypto: Crypto, c: StateChunk): AuthCheck {
  return verifyMac(crypto, replicaPrincipal(c.replica), stateChunkBytes(crypto, c), c.mac);
}

export function makeFetchRequests(
  crypto: Crypto,
  to: ReplicaId,
  f: Omit<FetchRequests, "type" | "mac">,
): FetchRequests {
  const mac = makeMac(crypto, replicaPrincipal(to), fetchRequestsBytes(f));
  return { type: "fetchrequests", ...f, mac };
}

export function verifyFetchRequests(crypto: Crypto, f: FetchRequests): AuthCheck {
  return verifyMac(crypto, replicaPrincipal(f.replica), fetchRequestsBytes(f), f.mac);
}
