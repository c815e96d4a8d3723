import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  timingSafeEqual,
  verify,
} from "node:crypto";
import type { Crypto, Principal } from "../core/crypto.js";

/** The keys one node holds. */
export interface KeyRing {
  readonly self: Principal;
  /** Pairwise secrets shared with other principals. */
  readonly macKeys: ReadonlyMap<Principal, Uint8Array>;
  /**
   * For principals without an explicit pairwise key (for example clients): derive one. Its
   * answer may change (a rotated or revoked client key), so callers do not cache it.
   */
  readonly deriveMacKey?: (peer: Principal) => Uint8Array | undefined;
  /**
   * The keys `peer` (a client) held before its key was rotated, newest first: a handshake that
   * proves one of them is answered "rotated out" instead of timing out (net/handshake.ts).
   */
  readonly deriveRetiredMacKeys?: (peer: Principal) => readonly Uint8Array[];
  /** This node's Ed25519 private key (PKCS#8 DER), if it signs. */
  readonly signingKey?: Uint8Array;
  /** Ed25519 public keys (SPKI DER) of principals whose signatures this node checks. */
  readonly verifyKeys: ReadonlyMap<Principal, Uint8Array>;
  /** For principals not in verifyKeys (for example clients): derive their public key (SPKI DER). */
  readonly deriveVerifyKey?: (signer: Principal) => Uint8Array | undefined;
}

/** The real Crypto: SHA-256, HMAC-SHA256 and Ed25519 from node:crypto. */
export class NodeCrypto implements Crypto {
  private readonly privateKey: KeyObject | undefined;
  private readonly publicKeys = new WeakMap<Uint8Array, KeyObject>();

  constructor(private readonly keys: KeyRing) {
    this.privateKey = keys.signingKey
      ? createPrivateKey({ key: Buffer.from(keys.signingKey), format: "der", type: "pkcs8" })
      : undefined;
  }

  digest(data: Uint8Array): Uint8Array {
    return createHash("sha256").update(data).digest();
  }

  private macKey(peer: Principal): Uint8Array | undefined {
    const explicit = this.keys.macKeys.get(peer);
    if (explicit) return explicit;
    // Not cached here: a client's key changes when it is rotated (the ring caches per version).
    return this.keys.deriveMacKey?.(peer);
  }

  mac(peer: Principal, data: Uint8Array): Uint8Array {
    const key = this.macKey(peer);
    if (!key) throw new Error(`no MAC key shared with ${peer}`);
    return createHmac("sha256", key).update(data).digest();
  }

  verifyMac(peer: Principal, data: Uint8Array, tag: Uint8Array): boolean {
    const key = this.macKey(peer);
    if (!key || tag.length !== 32) return false;
    const expected = createHmac("sha256", key).update(data).digest();
    return timingSafeEqual(expected, tag);
  }

  sign(data: Uint8Array): Uint8Array {
    if (!this.privateKey) throw new Error(`${this.keys.self} has no signing key`);
    return sign(null, data, this.privateKey);
  }

  verify(signer: Principal, data: Uint8Array, signature: Uint8Array): boolean {
    // Asked every time, not cached by signer: a client's key changes when it is rotated. The
    // parsed key is cached by the DER array itself (rings hand out the same array per key).
    const der = this.keys.verifyKeys.get(signer) ?? this.keys.deriveVerifyKey?.(signer);
    if (!der) return false;
    let key = this.publicKeys.get(der);
    if (!key) {
      key = createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" });
      this.publicKeys.set(der, key);
    }
    try {
      return verify(null, data, key, signature);
    } catch {
      return false;
    }
  }
}

/** A fresh Ed25519 key pair as DER bytes (PKCS#8 private, SPKI public). */
export function generateSigningKeyPair(): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKey: privateKey.export({ format: "der", type: "pkcs8" }),
    publicKey: publicKey.export({ format: "der", type: "spki" }),
  };
}
