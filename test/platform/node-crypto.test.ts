import { describe, expect, it } from "vitest";
import { clientPrincipal, equalBytes, replicaPrincipal, toHex } from "../../src/core/crypto.js";
import { generateSigningKeyPair, NodeCrypto } from "../../src/platform/node-crypto.js";

const text = (s: string) => new TextEncoder().encode(s);

const keyAB = new Uint8Array(32).fill(7);
const keyAC = new Uint8Array(32).fill(9);
const pairA = generateSigningKeyPair();
const pairB = generateSigningKeyPair();

const a = new NodeCrypto({
  self: "r0",
  macKeys: new Map([
    ["r1", keyAB],
    ["r2", keyAC],
  ]),
  signingKey: pairA.privateKey,
  verifyKeys: new Map([["r1", pairB.publicKey]]),
});
const b = new NodeCrypto({
  self: "r1",
  macKeys: new Map([["r0", keyAB]]),
  signingKey: pairB.privateKey,
  verifyKeys: new Map([["r0", pairA.publicKey]]),
});

describe("NodeCrypto digest", () => {
  it("is SHA-256", () => {
    expect(toHex(a.digest(text("abc")))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(toHex(a.digest(new Uint8Array(0)))).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });
});

describe("NodeCrypto MACs", () => {
  const data = text("prepare 7");

  it("a MAC made for a peer verifies at that peer", () => {
    const tag = a.mac("r1", data);
    expect(tag).toHaveLength(32);
    expect(b.verifyMac("r0", data, tag)).toBe(true);
    expect(a.verifyMac("r1", data, b.mac("r0", data))).toBe(true);
  });

  it("is HMAC-SHA256 (RFC 4231 test case 2)", () => {
    const c = new NodeCrypto({
      self: "r0",
      macKeys: new Map([["r1", text("Jefe")]]),
      verifyKeys: new Map(),
    });
    expect(toHex(c.mac("r1", text("what do ya want for nothing?")))).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("rejects a tampered message, a tampered tag, the wrong peer and a wrong-length tag", () => {
    const tag = a.mac("r1", data);
    expect(b.verifyMac("r0", text("prepare 8"), tag)).toBe(false);
    for (let i = 0; i < tag.length; i += 7) {
      const bad = Uint8Array.from(tag);
      bad[i] = bad[i]! ^ 1;
      expect(b.verifyMac("r0", data, bad)).toBe(false);
    }
    // r2 shares a different key with r0: a tag for r2 does not pass as one for r1
    expect(b.verifyMac("r0", data, a.mac("r2", data))).toBe(false);
    // a peer b shares no key with
    expect(b.verifyMac("r5", data, tag)).toBe(false);
    expect(b.verifyMac("r0", data, tag.subarray(0, 31))).toBe(false);
    expect(b.verifyMac("r0", data, new Uint8Array([...tag, 0]))).toBe(false);
    expect(b.verifyMac("r0", data, new Uint8Array(0))).toBe(false);
  });

  it("refuses to MAC for a peer without a key", () => {
    expect(() => a.mac("r9", data)).toThrow(/no MAC key/);
  });

  // Derived keys are asked for every time: a client's key changes when it is rotated, so the key
  // ring (net/keys.ts) caches them per key version, not NodeCrypto.
  it("derives keys for principals without an explicit one, every time it needs one", () => {
    let derivations = 0;
    const derive = (peer: string) => {
      derivations++;
      return peer.startsWith("c:") ? a.digest(text(`secret/${peer}`)) : undefined;
    };
    const replica = new NodeCrypto({
      self: "r0",
      macKeys: new Map(),
      deriveMacKey: derive,
      verifyKeys: new Map(),
    });
    const client = new NodeCrypto({
      self: clientPrincipal("alice"),
      macKeys: new Map([["r0", a.digest(text("secret/c:alice"))]]),
      verifyKeys: new Map(),
    });
    const tag = client.mac("r0", data);
    expect(replica.verifyMac(clientPrincipal("alice"), data, tag)).toBe(true);
    expect(replica.verifyMac(clientPrincipal("alice"), data, tag)).toBe(true);
    expect(replica.verifyMac(clientPrincipal("bob"), data, tag)).toBe(false);
    expect(derivations).toBe(3);
    expect(replica.verifyMac(replicaPrincipal(3), data, tag)).toBe(false);
  });
});

describe("NodeCrypto signatures", () => {
  const data = text("view-change 4");

  it("signs with Ed25519 and verifies with the signer's public key", () => {
    const sig = a.sign(data);
    expect(sig).toHaveLength(64);
    expect(b.verify("r0", data, sig)).toBe(true);
    expect(a.verify("r1", data, b.sign(data))).toBe(true);
    // deterministic (Ed25519)
    expect(equalBytes(a.sign(data), sig)).toBe(true);
  });

  it("rejects a tampered message or signature and a signature by someone else", () => {
    const sig = a.sign(data);
    expect(b.verify("r0", text("view-change 5"), sig)).toBe(false);
    const bad = Uint8Array.from(sig);
    bad[10] = bad[10]! ^ 0x40;
    expect(b.verify("r0", data, bad)).toBe(false);
    expect(b.verify("r0", data, sig.subarray(0, 63))).toBe(false);
    expect(b.verify("r0", data, new Uint8Array(0))).toBe(false);
    // b's own signature does not pass as a's
    expect(a.verify("r1", data, sig)).toBe(false);
  });

  it("fails for an unknown signer", () => {
    expect(b.verify("r7", data, a.sign(data))).toBe(false);
    expect(b.verify(clientPrincipal("x"), data, a.sign(data))).toBe(false);
  });

  it("refuses to sign without a signing key", () => {
    const c = new NodeCrypto({ self: "r3", macKeys: new Map(), verifyKeys: new Map() });
    expect(() => c.sign(data)).toThrow(/no signing key/);
  });

  it("generates distinct DER key pairs", () => {
    const p = generateSigningKeyPair();
    expect(p.privateKey).toBeInstanceOf(Uint8Array);
    expect(p.publicKey).toHaveLength(44); // SPKI header (12) + 32-byte key
    expect(equalBytes(p.publicKey, pairA.publicKey)).toBe(false);
  });
});

describe("crypto helpers", () => {
  it("equalBytes compares contents and lengths", () => {
    expect(equalBytes(new Uint8Array([1, 2]), Buffer.from([1, 2]))).toBe(true);
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(equalBytes(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
  });

  it("toHex respects subarray views", () => {
    const big = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
    expect(toHex(big.subarray(1, 3))).toBe("adbe");
  });

  it("names principals", () => {
    expect(replicaPrincipal(3)).toBe("r3");
    expect(clientPrincipal("c1")).toBe("c:c1");
  });
});
