import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  coreKeyRing,
  deriveClientSigningKeys,
  sessionOwner,
} from "../../src/net/client-signing.js";
import {
  clientKeyFile,
  deriveClientKey,
  generateClusterKeys,
  keyRingFor,
  replicaKeyFile,
} from "../../src/net/keys.js";
import { NodeCrypto } from "../../src/platform/node-crypto.js";

const keys = generateClusterKeys(4);
const data = new TextEncoder().encode("REQUEST alice 7");

function clientCrypto(id: string): NodeCrypto {
  const file = clientKeyFile(keys, id);
  return new NodeCrypto(coreKeyRing(file, keyRingFor(file, `c:${id}`)));
}

function replicaCrypto(id: number): NodeCrypto {
  const file = replicaKeyFile(keys, id);
  return new NodeCrypto(coreKeyRing(file, keyRingFor(file, `r${id}`)));
}

describe("derived client signing keys", () => {
  it("are deterministic Ed25519 key pairs, one per client key", () => {
    const alice = deriveClientKey(keys.clientSecret, "alice");
    const a1 = deriveClientSigningKeys(alice);
    const a2 = deriveClientSigningKeys(alice);
    expect(a1.privateKey).toEqual(a2.privateKey);
    expect(a1.publicKey).toEqual(a2.publicKey);
    const bob = deriveClientSigningKeys(deriveClientKey(keys.clientSecret, "bob"));
    expect(bob.publicKey).not.toEqual(a1.publicKey);

    const priv = createPrivateKey({
      key: Buffer.from(a1.privateKey),
      format: "der",
      type: "pkcs8",
    });
    expect(priv.asymmetricKeyType).toBe("ed25519");
    const pub = createPublicKey({ key: Buffer.from(a1.publicKey), format: "der", type: "spki" });
    const sig = sign(null, data, priv);
    expect(verify(null, data, pub, sig)).toBe(true);
  });

  it("name a session's owner: <id>.<12 hex digits> belongs to <id>, anything else to itself", () => {
    expect(sessionOwner("alice.0123456789ab")).toBe("alice");
    expect(sessionOwner("my.app.0123456789ab")).toBe("my.app");
    expect(sessionOwner("alice")).toBe("alice");
    expect(sessionOwner("alice.1")).toBe("alice.1");
    expect(sessionOwner("alice.0123456789AB")).toBe("alice.0123456789AB");
  });
});

describe("the core key ring", () => {
  it("lets every replica check a client's request signature under any of its sessions", () => {
    const alice = clientCrypto("alice");
    const sig = alice.sign(data);
    for (let r = 0; r < 4; r++) {
      const replica = replicaCrypto(r);
      expect(replica.verify("c:alice.0123456789ab", data, sig)).toBe(true);
      expect(replica.verify("c:alice", data, sig)).toBe(true);
      // Another client's name, or altered bytes, do not verify.
      expect(replica.verify("c:bob.0123456789ab", data, sig)).toBe(false);
      expect(replica.verify("c:alice.0123456789ab", new Uint8Array([1, ...data]), sig)).toBe(false);
    }
  });

  it("a client key file (no client secret) signs with the same key the cluster file derives", () => {
    const fromCluster = new NodeCrypto(coreKeyRing(keys, keyRingFor(keys, "c:carol")));
    const fromClientFile = clientCrypto("carol");
    expect(fromCluster.sign(data)).toEqual(fromClientFile.sign(data));
  });

  it("MACs replies to a session with the key its owner holds, and the owner checks them", () => {
    const r2 = replicaCrypto(2);
    const alice = clientCrypto("alice");
    const tag = r2.mac("c:alice.0123456789ab", data);
    expect(alice.verifyMac("r2", data, tag)).toBe(true);
    expect(clientCrypto("bob").verifyMac("r2", data, tag)).toBe(false);
    // And the other way: what the client MACs for a replica checks under its session name.
    expect(r2.verifyMac("c:alice.0123456789ab", data, alice.mac("r2", data))).toBe(true);
  });

  it("leaves replica keys alone: replicas still sign and check each other", () => {
    const r0 = replicaCrypto(0);
    const r1 = replicaCrypto(1);
    expect(r1.verify("r0", data, r0.sign(data))).toBe(true);
    expect(r1.verifyMac("r0", data, r0.mac("r1", data))).toBe(true);
  });

  it("follows the client's key version: after a rotation only the new key file's requests verify", () => {
    // What the access table says alice must hold; the replica's ring asks it on every check.
    let aliceVersion = 0;
    const file = replicaKeyFile(keys, 1);
    const transport = keyRingFor(file, "r1", (client) => (client === "alice" ? aliceVersion : 0));
    const replica = new NodeCrypto(coreKeyRing(file, transport));
    const oldFile = clientKeyFile(keys, "alice");
    const newFile = clientKeyFile(keys, "alice", 1_700_000_000_000);
    const oldClient = new NodeCrypto(coreKeyRing(oldFile, keyRingFor(oldFile, "c:alice")));
    const newClient = new NodeCrypto(coreKeyRing(newFile, keyRingFor(newFile, "c:alice")));
    const session = "c:alice.0123456789ab";
    expect(replica.verify(session, data, oldClient.sign(data))).toBe(true);
    expect(replica.verify(session, data, newClient.sign(data))).toBe(false);

    aliceVersion = 1_700_000_000_000; // `keys rotate alice` applied
    expect(replica.verify(session, data, oldClient.sign(data))).toBe(false);
    expect(replica.verify(session, data, newClient.sign(data))).toBe(true);
    // Replies are MACed with the new key too: only the new key file checks them.
    const tag = replica.mac(session, data);
    expect(newClient.verifyMac("r1", data, tag)).toBe(true);
    expect(oldClient.verifyMac("r1", data, tag)).toBe(false);
  });
});
