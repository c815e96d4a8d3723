import { createHash } from "node:crypto";
import { clientPrincipal, type Principal, replicaPrincipal } from "../../../src/core/crypto.js";
import type { Value } from "../../../src/core/value.js";
import { generateSigningKeyPair, NodeCrypto } from "../../../src/platform/node-crypto.js";
import {
  signPrePrepare,
  signPrepare,
  signRequest,
} from "../../../src/protocols/pbft/authenticator.js";
import type { Batch, PreparedCertificate, Request } from "../../../src/protocols/pbft/messages.js";
import { primaryOf, type Quorums, quorumsFor } from "../../../src/protocols/pbft/quorum.js";
import { batchDigest, requestDigest } from "../../../src/protocols/pbft/signed-bytes.js";

/**
 * Real keys for a test cluster: Ed25519 pairs per principal and a pairwise HMAC key per pair,
 * built once per (n, clients). A Byzantine replica in a test is simply a replica's own Crypto
 * used to sign something wrong: it holds its own keys, never another's.
 */
export interface TestCluster {
  readonly n: number;
  readonly q: Quorums;
  replica(id: number): NodeCrypto;
  client(name: string): NodeCrypto;
}

const pairs = new Map<Principal, { privateKey: Uint8Array; publicKey: Uint8Array }>();
function pairOf(p: Principal) {
  let pair = pairs.get(p);
  if (!pair) {
    pair = generateSigningKeyPair();
    pairs.set(p, pair);
  }
  return pair;
}

function macKey(a: Principal, b: Principal): Uint8Array {
  const [x, y] = [a, b].sort();
  return createHash("sha256").update(`test-mac-key/${x}/${y}`).digest();
}

export function testCluster(n: number, clients: readonly string[] = ["alice", "bob"]): TestCluster {
  const principals: Principal[] = [];
  for (let i = 0; i < n; i++) principals.push(replicaPrincipal(i));
  for (const c of clients) principals.push(clientPrincipal(c));
  const verifyKeys = new Map(principals.map((p) => [p, pairOf(p).publicKey] as const));
  const cache = new Map<Principal, NodeCrypto>();
  const cryptoOf = (self: Principal) => {
    let c = cache.get(self);
    if (!c) {
      c = new NodeCrypto({
        self,
        macKeys: new Map(principals.filter((p) => p !== self).map((p) => [p, macKey(self, p)])),
        signingKey: pairOf(self).privateKey,
        verifyKeys,
      });
      cache.set(self, c);
    }
    return c;
  };
  return {
    n,
    q: quorumsFor(n),
    replica: (id) => cryptoOf(replicaPrincipal(id)),
    client: (name) => cryptoOf(clientPrincipal(name)),
  };
}

export const zeros = new Uint8Array(32);
export const digestOf = (label: string): Uint8Array =>
  new Uint8Array(createHash("sha256").update(label).digest());

export function request(
  c: TestCluster,
  client: string,
  timestamp: number,
  op: Value,
  readOnly = false,
): Request {
  return signRequest(c.client(client), { client, timestamp, ackedBelow: 0, readOnly, op });
}

/** A batch of the given requests at `time`. */
export function batchOf(c: TestCluster, time: number, ...requests: Request[]): Batch {
  return { time, requests: requests.map((r) => requestDigest(c.replica(0), r)) };
}

/**
 * A valid prepared certificate for (view, seq, batch): the view's primary's pre-prepare and
 * prepares from the first 2f backups (or from `backups`).
 */
export function certificate(
  c: TestCluster,
  view: number,
  seq: number,
  batch: Batch,
  backups?: readonly number[],
): PreparedCertificate {
  const primary = primaryOf(view, c.n);
  const prePrepare = signPrePrepare(c.replica(primary), { view, seq, batch, replica: primary });
  const digest = batchDigest(c.replica(0), batch);
  const senders =
    backups ?? [...Array(c.n).keys()].filter((r) => r !== primary).slice(0, c.q.prepares);
  const prepares = senders.map((r) => signPrepare(c.replica(r), { view, seq, digest, replica: r }));
  return { prePrepare, prepares };
}
