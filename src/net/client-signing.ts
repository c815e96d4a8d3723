import { createPrivateKey, createPublicKey, hkdfSync } from "node:crypto";
import type { Principal } from "../core/crypto.js";
import type { ClientId } from "../core/ids.js";
import type { KeyRing } from "../platform/node-crypto.js";
import { deriveClientKey, type KeyFile, KeyFileError } from "./keys.js";
import { parsePrincipal } from "./principal.js";

/**
 * Client signing keys for protocols whose cores authenticate requests themselves (PBFT: every
 * REQUEST carries its client's Ed25519 signature), and the key ring a protocol core gets.
 *
 * A client's Ed25519 key pair is derived, not stored: seed = HKDF-SHA256(clientKey, info
 * `lockstep client signing key`), where clientKey is the key the client already shares with the
 * replicas (HKDF(clientSecret, `lockstep client <id>`), keys.ts). So a client key file needs no
 * new field, and a replica, which holds the client secret, can compute any client's public key
 * without a directory of clients. The price (docs/net.md, "Client signing keys"): whoever holds
 * the client secret, every replica included, can also sign as any client. Request signatures
 * therefore keep outsiders from forging requests, not a faulty replica.
 */

const signingInfo = "lockstep client signing key";

/** PKCS#8 DER of an Ed25519 private key is this 16-byte prefix followed by the 32-byte seed (RFC 8410). */
const pkcs8Ed25519Prefix = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

export interface ClientSigningKeys {
  /** PKCS#8 DER. */
  readonly privateKey: Uint8Array;
  /** SPKI DER. */
  readonly publicKey: Uint8Array;
}

/** The Ed25519 key pair of the client that shares `clientKey` with the replicas. */
export function deriveClientSigningKeys(clientKey: Uint8Array): ClientSigningKeys {
  const seed = new Uint8Array(hkdfSync("sha256", clientKey, new Uint8Array(0), signingInfo, 32));
  const privateKey = new Uint8Array(pkcs8Ed25519Prefix.length + seed.length);
  privateKey.set(pkcs8Ed25519Prefix);
  privateKey.set(seed, pkcs8Ed25519Prefix.length);
  const key = createPrivateKey({ key: Buffer.from(privateKey), format: "der", type: "pkcs8" });
  const publicKey = new Uint8Array(createPublicKey(key).export({ format: "der", type: "spki" }));
  return { privateKey, publicKey };
}

/**
 * The client whose keys speak for session `session`. The client library names a session
 * `<client id>.<12 hex digits>` (client.ts, connect()); any other session id is a client id
 * itself. Deterministic, so every replica finds the same key for a forwarded request.
 */
export function sessionOwner(session: string): string {
  const m = /^(.+)\.[0-9a-f]{12}$/.exec(session);
  return m ? m[1]! : session;
}

/** The key a client shares with every replica, from any key file that can make it. */
function clientKeyOf(keys: KeyFile, clientId: ClientId): Uint8Array {
  if (keys.kind === "client") {
    if (keys.clientId !== clientId) {
      throw new KeyFileError([
        `this client key file belongs to c:${keys.clientId}, not c:${clientId}`,
      ]);
    }
    return keys.clientKey;
  }
  return deriveClientKey(keys.clientSecret, clientId);
}

/**
 * The ring a protocol core's Crypto uses, built on the ring the transport uses (keyRingFor).
 *
 * Both follow the client's key version: a client signs with the key pair of the key file it
 * holds (a rotated file holds the new version's key), and a replica checks against the pair of
 * the version its access table requires now, so after `keys rotate` the old key's requests are
 * refused.
 *
 * - A client also signs, with its derived Ed25519 key.
 * - A replica names clients by session (`c:<session>`, what requests carry): it MACs replies
 *   with, and checks signatures against, the keys of the session's owner (sessionOwner). The
 *   transport's ring is left as it is: there a principal is a client id, never a session.
 */
export function coreKeyRing(keys: KeyFile, transportRing: KeyRing): KeyRing {
  const self = parsePrincipal(transportRing.self);
  if (!self) throw new KeyFileError([`${transportRing.self} is not a principal`]);
  if (self.type === "client") {
    const own = deriveClientSigningKeys(clientKeyOf(keys, self.id));
    return { ...transportRing, signingKey: own.privateKey };
  }
  if (keys.kind === "client") {
    throw new KeyFileError([`a client key file holds no keys for replica ${transportRing.self}`]);
  }
  // The transport ring derives a client's key at the version the access table says it must
  // hold now (keyRingFor's ClientKeyPolicy), the same array for the same version: so signatures
  // and MACs follow `keys rotate`, and a revoked or rotated-out key verifies nothing.
  const transportKey = transportRing.deriveMacKey;
  if (!transportKey) throw new KeyFileError([`${transportRing.self} derives no client keys`]);
  const ownerKey = (peer: Principal): Uint8Array | undefined => {
    const p = parsePrincipal(peer);
    if (p?.type !== "client") return undefined;
    return transportKey(`c:${sessionOwner(p.id)}`);
  };
  const publicKeys = new WeakMap<Uint8Array, Uint8Array>();
  return {
    ...transportRing,
    deriveMacKey: ownerKey,
    deriveVerifyKey: (signer) => {
      const key = ownerKey(signer);
      if (!key) return undefined;
      let publicKey = publicKeys.get(key);
      if (!publicKey) {
        publicKey = deriveClientSigningKeys(key).publicKey;
        publicKeys.set(key, publicKey);
      }
      return publicKey;
    },
  };
}
