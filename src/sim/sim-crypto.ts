import { createHash, hash } from "node:crypto";
import type { Crypto, Principal } from "../core/crypto.js";

/**
 * The simulator's cryptography: real SHA-256, and *ideal* MACs and signatures.
 *
 * A MAC between P and Q over data is SHA-256(data) ⊕ k_PQ; a signature by P is SHA-256(data) ⊕ k_P
 * padded to Ed25519's 64 bytes (data of 32 bytes, a digest, is XORed as it is: see keyedHash),
 * where the keys are secrets derived from the seed. Anyone holding a tag and its data could
 * recover the key from them, so this is no MAC outside the simulator;
 * inside it, what makes a tag unforgeable is that no simulated node is ever handed another's
 * SimCrypto or keys (the adversary's code included), and one hash per tag with no key material
 * to concatenate is the cheapest construction the simulator pays on every message.
 *
 * Every simulated node can check a signature (the simulator hands each node the verifier for
 * every principal), but only code holding P's own SimCrypto can make one:
 * a Byzantine replica wrapped by the adversary gets its own SimCrypto, never another's, so it can
 * sign as itself and nobody else. That is exactly the property the protocols rely on (unforgeable,
 * transferable), at the cost of one hash instead of an Ed25519 signature (about 2 µs against
 * 50 µs to sign and 120 µs to verify), which keeps 1000 PBFT seeds inside CI's budget. The real runtime
 * uses NodeCrypto with Ed25519.
 */
export class SimCrypto implements Crypto {
  private readonly macKeys = new Map<Principal, Buffer>();
  private readonly signKeys = new Map<Principal, Buffer>();

  constructor(
    private readonly self: Principal,
    private readonly seed: number,
  ) {}

  digest(data: Uint8Array): Uint8Array {
    return hash("sha256", data, "buffer");
  }

  mac(peer: Principal, data: Uint8Array): Uint8Array {
    return keyedHash(this.macKey(peer), data);
  }

  verifyMac(peer: Principal, data: Uint8Array, tag: Uint8Array): boolean {
    if (tag.length !== 32) return false;
    return matchesKeyedHash(this.macKey(peer), data, tag);
  }

  sign(data: Uint8Array): Uint8Array {
    return this.signature(this.self, data);
  }

  verify(signer: Principal, data: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== 64) return false;
    for (let i = 32; i < 64; i++) if (signature[i] !== 0) return false;
    return matchesKeyedHash(this.signKey(signer), data, signature);
  }

  private signature(signer: Principal, data: Uint8Array): Uint8Array {
    const out = Buffer.alloc(64);
    out.set(keyedHash(this.signKey(signer), data));
    return out;
  }

  private macKey(peer: Principal): Buffer {
    let key = this.macKeys.get(peer);
    if (!key) {
      const pair = [this.self, peer].sort().join("|");
      key = createHash("sha256").update(`lockstep-sim|${this.seed}|${pair}`).digest();
      this.macKeys.set(peer, key);
    }
    return key;
  }

  private signKey(signer: Principal): Buffer {
    let key = this.signKeys.get(signer);
    if (!key) {
      key = createHash("sha256").update(`lockstep-sim-sign|${this.seed}|${signer}`).digest();
      this.signKeys.set(signer, key);
    }
    return key;
  }
}

/**
 * SHA-256(data) ⊕ key (32 bytes): see the class comment for why this is enough here. The
 * protocols MAC and sign digests, 32 bytes that are already a SHA-256: those are XORed with the
 * key as they are, which gives away no more than hashing them again would (either way the tag
 * and the data give the key), and saves a hash on every tag made or checked.
 */
function keyedHash(key: Buffer, data: Uint8Array): Uint8Array {
  // Buffer.allocUnsafe carves small buffers out of a pool: a fresh ArrayBuffer costs a microsecond.
  const out = data.length === 32 ? Buffer.allocUnsafe(32) : hash("sha256", data, "buffer");
  const from = data.length === 32 ? data : out;
  for (let i = 0; i < 32; i++) out[i] = from[i]! ^ key[i]!;
  return out;
}

/** keyedHash(key, data) equals the first 32 bytes of tag (no secret to time here). */
function matchesKeyedHash(key: Buffer, data: Uint8Array, tag: Uint8Array): boolean {
  const from = data.length === 32 ? data : hash("sha256", data, "buffer");
  for (let i = 0; i < 32; i++) if ((from[i]! ^ key[i]!) !== tag[i]) return false;
  return true;
}
