import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import type { Principal } from "../core/crypto.js";
import type { KeyRing } from "../platform/node-crypto.js";

/**
 * The key material one end of a connection uses during a handshake, taken from a KeyRing.
 * Pair keys are never used directly on the wire: each connection works with a link key
 * derived for its (dialer, responder) pair, so the wire never MACs anything a protocol core
 * could also be asked to MAC with the same key.
 */
export interface HandshakeKeys {
  readonly self: Principal;
  /** The pair key shared with `peer` (from the KeyRing), or undefined if there is none. */
  pairKey(peer: Principal): Uint8Array | undefined;
  /** Keys `peer` (a client) held before rotations, newest first (none for replicas). */
  retiredPairKeys(peer: Principal): readonly Uint8Array[];
  /** Signs with this node's Ed25519 key; undefined when the node has none (clients). */
  readonly sign: ((data: Uint8Array) => Uint8Array) | undefined;
  /** Checks `peer`'s Ed25519 signature; undefined when this node does not know `peer`'s public key. */
  verifier(peer: Principal): ((data: Uint8Array, signature: Uint8Array) => boolean) | undefined;
}

export function handshakeKeys(ring: KeyRing): HandshakeKeys {
  const publicKeys = new Map<Principal, KeyObject>();
  const privateKey = ring.signingKey
    ? createPrivateKey({ key: Buffer.from(ring.signingKey), format: "der", type: "pkcs8" })
    : undefined;
  return {
    self: ring.self,
    pairKey(peer) {
      const explicit = ring.macKeys.get(peer);
      if (explicit) return explicit;
      // Asked each handshake: a client's key may be rotated or revoked (the ring caches).
      return ring.deriveMacKey?.(peer);
    },
    retiredPairKeys(peer) {
      return ring.deriveRetiredMacKeys?.(peer) ?? [];
    },
    sign: privateKey ? (data) => new Uint8Array(sign(null, data, privateKey)) : undefined,
    verifier(peer) {
      let key = publicKeys.get(peer);
      if (!key) {
        const der = ring.verifyKeys.get(peer);
        if (!der) return undefined;
        try {
          key = createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" });
        } catch {
          return () => false;
        }
        publicKeys.set(peer, key);
      }
      const publicKey = key;
      return (data, signature) => {
        try {
          return verify(null, data, publicKey, signature);
        } catch {
          return false;
        }
      };
    },
  };
}

const wireLabel = "lockstep-net-v1";

/** The key one connection's handshake is MAC'd with: HKDF(pairKey, info `lockstep-net-v1 link <dialer> <responder>`). */
export function deriveLinkKey(
  pairKey: Uint8Array,
  dialer: Principal,
  responder: Principal,
): KeyObject {
  const bytes = hkdfSync(
    "sha256",
    pairKey,
    new Uint8Array(0),
    `${wireLabel} link ${dialer} ${responder}`,
    32,
  );
  return createSecretKey(new Uint8Array(bytes));
}

/** The session key: HKDF(link key, salt = SHA-256(handshake transcript), info `lockstep-net-v1 session`). */
export function deriveSessionKey(linkKey: KeyObject, transcript: readonly Uint8Array[]): KeyObject {
  const hash = createHash("sha256");
  for (const part of transcript) hash.update(part);
  const bytes = hkdfSync("sha256", linkKey.export(), hash.digest(), `${wireLabel} session`, 32);
  return createSecretKey(new Uint8Array(bytes));
}

export function labeledMac(
  key: KeyObject,
  label: string,
  parts: readonly Uint8Array[],
): Uint8Array {
  const hmac = createHmac("sha256", key).update(`${wireLabel} ${label}\0`);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

export function labeled(label: string, parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat([Buffer.from(`${wireLabel} ${label}\0`), ...parts]);
}
