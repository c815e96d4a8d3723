import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  clientKeyFile,
  deriveClientKey,
  derivePairKey,
  formatKeyFile,
  generateClusterKeys,
  type KeyFileError,
  keyRingFor,
  parseKeyFile,
  readKeyFile,
  replicaKeyFile,
  writeKeyFile,
} from "../../src/net/keys.js";
import { clientIdProblem, maxClientIdLength, parsePrincipal } from "../../src/net/principal.js";
import { NodeCrypto } from "../../src/platform/node-crypto.js";

const dir = mkdtempSync(join(tmpdir(), "lockstep-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    expect((error as Error).name).toBe("KeyFileError");
    return (error as KeyFileError).problems;
  }
  throw new Error("expected a KeyFileError");
}

describe("cluster key files", () => {
  const keys = generateClusterKeys(3);

  it("generates 32-byte secrets and an Ed25519 pair per replica", () => {
    expect(keys.clusterSecret).toHaveLength(32);
    expect(keys.clientSecret).toHaveLength(32);
    expect(keys.replicas.map((r) => r.id)).toEqual([0, 1, 2]);
    expect(generateClusterKeys(3).clusterSecret).not.toEqual(keys.clusterSecret);
  });

  it("writes with mode 0600 and reads back every kind", () => {
    for (const [name, file] of [
      ["cluster.json", keys],
      ["r1.json", replicaKeyFile(keys, 1)],
      ["alice.json", clientKeyFile(keys, "alice")],
    ] as const) {
      const path = join(dir, name);
      writeKeyFile(path, file);
      if (process.platform !== "win32") expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readKeyFile(path)).toEqual(file);
      writeKeyFile(path, file); // overwrite is fine
    }
  });

  it("refuses a key file other users can read", () => {
    if (process.platform === "win32") return;
    const path = join(dir, "loose.json");
    writeKeyFile(path, keys);
    chmodSync(path, 0o644);
    expect(problemsOf(() => readKeyFile(path))[0]).toMatch(/chmod 600/);
    expect(readKeyFile(path, { checkMode: false })).toEqual(keys);
  });

  it("names every bad field at once", () => {
    const path = join(dir, "bad.json");
    const json = JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8"));
    json.version = 7;
    json.clusterSecret = "abc";
    json.clientSecret = 5;
    json.extra = true;
    json.replicas[1].publicKey = "!!";
    json.replicas[2].id = 9;
    json.replicas[0].privateKey = json.replicas[2].privateKey;
    writeFileSync(path, JSON.stringify(json), { mode: 0o600 });
    const problems = problemsOf(() => readKeyFile(path));
    expect(problems).toEqual(
      expect.arrayContaining([
        "extra: unknown field",
        "version: expected 1, got 7",
        "clusterSecret: expected 32 bytes as 64 hex digits",
        "clientSecret: expected 32 bytes as 64 hex digits",
        "replicas[1].publicKey: expected base64 DER",
        "replicas[2].id: expected 2 (ids are positions 0..n-1), got 9",
        "replicas[0].privateKey: not an Ed25519 key matching publicKey",
      ]),
    );
    expect(problems).toHaveLength(7);
    expect(problemsOf(() => parseKeyFile([]))).toEqual(["key file must be a JSON object"]);
    expect(problemsOf(() => parseKeyFile({ lockstep: "nope" }))[0]).toMatch(/^lockstep:/);
    writeFileSync(path, "{", { mode: 0o600 });
    expect(problemsOf(() => readKeyFile(path))[0]).toMatch(/^not JSON/);
  });

  it("keeps a replica file to its own secrets", () => {
    const r1 = replicaKeyFile(keys, 1);
    expect(r1.replicas.filter((r) => r.privateKey).map((r) => r.id)).toEqual([1]);
    expect([...r1.pairKeys.keys()]).toEqual([0, 2]);
    expect(JSON.stringify(r1)).not.toContain("clusterSecret");
    const json = JSON.parse(readFileSync(join(dir, "r1.json"), "utf8"));
    json.replicas[0].privateKey = JSON.parse(
      readFileSync(join(dir, "cluster.json"), "utf8"),
    ).replicas[0].privateKey;
    delete json.pairKeys["2"];
    json.pairKeys["1"] = json.pairKeys["0"];
    expect(problemsOf(() => parseKeyFile(json))).toEqual([
      "pairKeys.1: not another replica listed in replicas",
      "pairKeys.2: missing",
      "replicas[0].privateKey: a replica file holds only its own private key",
    ]);
  });

  it("derives pair keys by HKDF, the same from both ends and from either file kind", () => {
    const k01 = derivePairKey(keys.clusterSecret, 0, 1);
    expect(derivePairKey(keys.clusterSecret, 1, 0)).toEqual(k01);
    expect(derivePairKey(keys.clusterSecret, 0, 2)).not.toEqual(k01);
    const r0 = keyRingFor(keys, "r0");
    const r1 = keyRingFor(replicaKeyFile(keys, 1), "r1");
    expect(r0.macKeys.get("r1")).toEqual(k01);
    expect(r1.macKeys.get("r0")).toEqual(k01);
    expect(r0.macKeys.has("r0")).toBe(false);
    expect(r1.signingKey).toEqual(keys.replicas[1]!.privateKey);
  });

  it("derives client keys on demand at replicas; a client holds only its own", () => {
    const alice = deriveClientKey(keys.clientSecret, "alice");
    const r2 = keyRingFor(replicaKeyFile(keys, 2), "r2");
    expect(r2.deriveMacKey?.("c:alice")).toEqual(alice);
    expect(r2.deriveMacKey?.("c:bob")).not.toEqual(alice);
    const fromFile = keyRingFor(clientKeyFile(keys, "alice"), "c:alice");
    const fromCluster = keyRingFor(keys, "c:alice");
    for (const ring of [fromFile, fromCluster]) {
      expect(ring.deriveMacKey?.("r0")).toEqual(alice);
      expect(ring.deriveMacKey?.("c:bob")).toBeUndefined();
      expect(ring.signingKey).toBeUndefined();
      expect(ring.verifyKeys.size).toBe(3);
    }
    expect(problemsOf(() => keyRingFor(clientKeyFile(keys, "alice"), "c:bob"))[0]).toMatch(
      /c:alice/,
    );
    expect(problemsOf(() => keyRingFor(clientKeyFile(keys, "alice"), "r0"))[0]).toMatch(
      /client key file/,
    );
    expect(problemsOf(() => keyRingFor(replicaKeyFile(keys, 1), "r2"))[0]).toMatch(/r1/);
    expect(problemsOf(() => keyRingFor(keys, "r7"))[0]).toMatch(/not in the key file/);
  });

  it("gives NodeCrypto rings that agree on MACs and signatures", () => {
    const r0 = new NodeCrypto(keyRingFor(replicaKeyFile(keys, 0), "r0"));
    const r1 = new NodeCrypto(keyRingFor(replicaKeyFile(keys, 1), "r1"));
    const alice = new NodeCrypto(keyRingFor(clientKeyFile(keys, "alice"), "c:alice"));
    const data = new TextEncoder().encode("order 42");
    expect(r1.verifyMac("r0", data, r0.mac("r1", data))).toBe(true);
    expect(r0.verifyMac("c:alice", data, alice.mac("r0", data))).toBe(true);
    expect(r0.verifyMac("c:bob", data, alice.mac("r0", data))).toBe(false);
    expect(alice.verify("r1", data, r1.sign(data))).toBe(true);
    expect(r0.verify("r0", data, r1.sign(data))).toBe(false);
  });
});

describe("client ids (issue 15)", () => {
  const keys = generateClusterKeys(3);
  const bad = [
    "",
    "x".repeat(maxClientIdLength + 1),
    "x\ny\u0000",
    "tab\there",
    "del\u007f",
    "c:r1",
    "r1:x",
  ];

  it("are 1 to 40 characters without control characters or ':'", () => {
    expect(maxClientIdLength).toBe(40);
    for (const id of ["a", "alice", "x".repeat(40), "app-1.eu_west", "bob@example.com"]) {
      expect(clientIdProblem(id)).toBeUndefined();
      expect(clientKeyFile(keys, id).clientId).toBe(id);
    }
    for (const id of bad) expect(clientIdProblem(id)).toBeTypeOf("string");
  });

  it("are refused when a key is made, with the reason", () => {
    expect(problemsOf(() => clientKeyFile(keys, "x\ny\u0000"))).toEqual([
      'clientId: a client id may not contain control characters, got "x\\ny\\u0000"',
    ]);
    expect(problemsOf(() => clientKeyFile(keys, "c:r1"))[0]).toContain("may not contain ':'");
    expect(problemsOf(() => clientKeyFile(keys, "x".repeat(41)))[0]).toContain(
      "1 to 40 characters, got 41",
    );
    for (const id of bad) expect(problemsOf(() => clientKeyFile(keys, id))).toHaveLength(1);
  });

  it("are refused when a key file is read", () => {
    const good = JSON.parse(formatKeyFile(clientKeyFile(keys, "alice"))) as { clientId: string };
    for (const id of bad) {
      const problems = problemsOf(() => parseKeyFile({ ...good, clientId: id }));
      expect(problems.some((p) => p.startsWith("clientId: "))).toBe(true);
    }
  });

  it("are refused as principals, so a HELLO naming one fails as malformed", () => {
    expect(parsePrincipal("c:alice")).toEqual({ type: "client", id: "alice" });
    for (const id of bad) expect(parsePrincipal(`c:${id}`)).toBeUndefined();
    expect(() => keyRingFor(keys, "c:c:r1" as never)).toThrow();
  });
});
