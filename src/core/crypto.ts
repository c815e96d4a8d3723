/**
 * What protocol cores may ask of cryptography. Cores never hold key material: they name the
 * other party and the implementation picks the key, so a core cannot leak or misuse keys.
 */

/** A party that holds keys: a replica (`r3`) or a client (`c:<client id>`). */
export type Principal = `r${number}` | `c:${string}`;

export function replicaPrincipal(id: number): Principal {
  return `r${id}`;
}

export function clientPrincipal(id: string): Principal {
  return `c:${id}`;
}

export interface Crypto {
  /** SHA-256 (32 bytes). */
  digest(data: Uint8Array): Uint8Array;
  /** HMAC-SHA256 with the key this node shares with `peer`. */
  mac(peer: Principal, data: Uint8Array): Uint8Array;
  /** Constant-time check of a MAC that `peer` computed with the key it shares with this node. */
  verifyMac(peer: Principal, data: Uint8Array, tag: Uint8Array): boolean;
  /** Ed25519 signature by this node, for proofs that must be forwarded (PBFT view change). */
  sign(data: Uint8Array): Uint8Array;
  /** Checks `signer`'s Ed25519 signature. Unknown signers fail. */
  verify(signer: Principal, data: Uint8Array, signature: Uint8Array): boolean;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
