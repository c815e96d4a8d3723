import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Crypto, Principal } from "../core/crypto.js";

/**
 * The simulator's cryptography: real SHA-256 and HMAC-SHA256, and *ideal* signatures.
 *
 * A signature by P over data is HMAC(k_P, data) padded to Ed25519's 64 bytes, where k_P is a
 * secret derived from the seed and P. Every simulated node can check it (the simulator hands each
 * node the verifier for every principal), but only code holding P's own SimCrypto can make one:
 * a Byzantine replica wrapped by the adversary gets its own SimCrypto, never another's, so it can
 * sign as itself and nobody else. That is exactly the property the protocols rely on (unforgeable,
 * transferable), at the cost of an HMAC instead of an Ed25519 signature (about 2 µs against 50 µs
 * to sign and 120 µs to verify), which keeps 1000 PBFT seeds inside CI's budget. The real runtime
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
    return createHash("sha256").update(data).digest();
  }

  mac(peer: Principal, data: Uint8Array): Uint8Array {
    return createHmac("sha256", this.macKey(peer)).update(data).digest();
  }

  verifyMac(peer: Principal, data: Uint8Array, tag: Uint8Array): boolean {
    if (tag.length !== 32) return false;
    return timingSafeEqual(this.mac(peer, data), tag);
  }

  sign(data: Uint8Array): Uint8Array {
    return this.signature(this.self, data);
  }

  verify(signer: Principal, data: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== 64) return false;
    return timingSafeEqual(this.signature(signer, data), signature);
  }

  private signature(signer: Principal, data: Uint8Array): Uint8Array {
    const out = new Uint8Array(64);
    out.set(createHmac("sha256", this.signKey(signer)).update(data).digest());
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
