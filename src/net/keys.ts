import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from "node:crypto";
import { chmodSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Principal } from "../core/crypto.js";
import type { ClientId, ReplicaId } from "../core/ids.js";
import { isPlainObject } from "../core/schema.js";
import type { KeyRing } from "../platform/node-crypto.js";
import { clientIdProblem, parsePrincipal } from "./principal.js";

/**
 * Cluster key files (docs/net.md, "Keys"). Three kinds, one JSON shape each:
 *
 * - `cluster`: everything — the 32-byte cluster secret (replica pair keys derive from it), the
 *   32-byte client secret (client keys derive from it) and every replica's Ed25519 key pair.
 *   Convenient for a local cluster on one machine; whoever reads it can impersonate anyone.
 * - `replica`: what one replica needs and nothing more — its pair keys (already derived), the
 *   client secret, every replica's public key and only its own private key. Give each replica
 *   its own file in production.
 * - `client`: one client's derived key and the replicas' public keys.
 */
export const keyFileVersion = 1;
const secretBytes = 32;

export interface ReplicaKeyPair {
  readonly id: ReplicaId;
  /** Ed25519 public key, SPKI DER. */
  readonly publicKey: Uint8Array;
  /** Ed25519 private key, PKCS#8 DER; only in the file of the replica it belongs to (or a cluster file). */
  readonly privateKey?: Uint8Array;
}

export interface ClusterKeyFile {
  readonly kind: "cluster";
  readonly clusterSecret: Uint8Array;
  readonly clientSecret: Uint8Array;
  readonly replicas: readonly ReplicaKeyPair[];
}

export interface ReplicaKeyFile {
  readonly kind: "replica";
  readonly self: ReplicaId;
  /** The key this replica shares with each other replica. */
  readonly pairKeys: ReadonlyMap<ReplicaId, Uint8Array>;
  readonly clientSecret: Uint8Array;
  readonly replicas: readonly ReplicaKeyPair[];
}

export interface ClientKeyFile {
  readonly kind: "client";
  readonly clientId: ClientId;
  /** The key this client shares with every replica: deriveClientKey(clientSecret, id, keyVersion). */
  readonly clientKey: Uint8Array;
  /** Which key of the client this is: 0 at first, then the version `lockstep keys rotate` chose. */
  readonly keyVersion?: number;
  /** Public keys only (may be empty: the client then does not check replica signatures). */
  readonly replicas: readonly ReplicaKeyPair[];
}

export type KeyFile = ClusterKeyFile | ReplicaKeyFile | ClientKeyFile;

export class KeyFileError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid key file: ${problems.join("; ")}`);
    this.name = "KeyFileError";
  }
}

function hkdf(secret: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", secret, new Uint8Array(0), info, secretBytes));
}

/** The key replicas a and b share: HKDF-SHA256(clusterSecret, info `lockstep pair r<min> r<max>`). */
export function derivePairKey(clusterSecret: Uint8Array, a: ReplicaId, b: ReplicaId): Uint8Array {
  if (a === b) throw new RangeError(`a replica shares no pair key with itself (r${a})`);
  return hkdf(clusterSecret, `lockstep pair r${Math.min(a, b)} r${Math.max(a, b)}`);
}

/**
 * The key a client shares with every replica: HKDF-SHA256(clientSecret, info `lockstep client
 * <id>`) for key version 0, and info `lockstep client <id> v<version>` after rotations.
 */
export function deriveClientKey(
  clientSecret: Uint8Array,
  clientId: ClientId,
  version = 0,
): Uint8Array {
  return hkdf(
    clientSecret,
    version === 0 ? `lockstep client ${clientId}` : `lockstep client ${clientId} v${version}`,
  );
}

/**
 * What a replica's key ring asks before it derives a client's key: the key version the client
 * must hold now, or undefined to refuse the client (revoked). The runtime answers from the
 * replicated access table (core/access.ts); without one every client holds version 0.
 */
export type ClientKeyPolicy = (clientId: ClientId) => number | undefined;

/**
 * The key versions a client held before its rotations, newest first (the access table keeps a
 * few): a handshake proving one of them is told the key was rotated out.
 */
export type RetiredKeyVersions = (clientId: ClientId) => readonly number[];

/** Fresh random secrets and an Ed25519 key pair for each of n replicas (ids 0..n-1). */
export function generateClusterKeys(n: number): ClusterKeyFile {
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new RangeError(`replica count must be an integer from 1 to 1024, got ${n}`);
  }
  const replicas: ReplicaKeyPair[] = [];
  for (let id = 0; id < n; id++) {
    const pair = generateKeyPairSync("ed25519");
    replicas.push({
      id,
      publicKey: new Uint8Array(pair.publicKey.export({ format: "der", type: "spki" })),
      privateKey: new Uint8Array(pair.privateKey.export({ format: "der", type: "pkcs8" })),
    });
  }
  return {
    kind: "cluster",
    clusterSecret: new Uint8Array(randomBytes(secretBytes)),
    clientSecret: new Uint8Array(randomBytes(secretBytes)),
    replicas,
  };
}

function publicOnly(replicas: readonly ReplicaKeyPair[], keep?: ReplicaId): ReplicaKeyPair[] {
  return replicas.map((r) =>
    r.id === keep && r.privateKey
      ? { id: r.id, publicKey: r.publicKey, privateKey: r.privateKey }
      : { id: r.id, publicKey: r.publicKey },
  );
}

/** The key file for one replica, cut from a cluster file: no cluster secret, no other private key. */
export function replicaKeyFile(keys: ClusterKeyFile, self: ReplicaId): ReplicaKeyFile {
  if (!keys.replicas.some((r) => r.id === self)) {
    throw new KeyFileError([`replica ${self} is not in the key file`]);
  }
  const pairKeys = new Map<ReplicaId, Uint8Array>();
  for (const r of keys.replicas) {
    if (r.id !== self) pairKeys.set(r.id, derivePairKey(keys.clusterSecret, self, r.id));
  }
  return {
    kind: "replica",
    self,
    pairKeys,
    clientSecret: keys.clientSecret,
    replicas: publicOnly(keys.replicas, self),
  };
}

/**
 * The key file for one client: its derived key and the replicas' public keys. Takes any KeyFile
 * (so `clientKeyFile(readKeyFile(path), id)` compiles); a client key file holds no secret to
 * derive another client's key from and is refused.
 */
export function clientKeyFile(keys: KeyFile, clientId: ClientId, keyVersion = 0): ClientKeyFile {
  if (keys.kind === "client") {
    throw new KeyFileError([
      `a client key file (of "${keys.clientId}") cannot make another client's key: use the cluster key file`,
    ]);
  }
  const problem = clientIdProblem(clientId);
  if (problem !== undefined) throw new KeyFileError([`clientId: ${problem}`]);
  return {
    kind: "client",
    clientId,
    clientKey: deriveClientKey(keys.clientSecret, clientId, keyVersion),
    ...(keyVersion === 0 ? {} : { keyVersion }),
    replicas: publicOnly(keys.replicas),
  };
}

/**
 * The KeyRing (for NodeCrypto and the transports) of `self` from a key file. A replica gets its
 * pair keys, derives any client's key on demand, signs with its own key and checks every
 * replica's signatures. A client gets one key shared with all replicas.
 */
export function keyRingFor(
  keys: KeyFile,
  self: Principal,
  clientKeys: ClientKeyPolicy = () => 0,
  retiredKeys: RetiredKeyVersions = () => [],
): KeyRing {
  const who = parsePrincipal(self);
  if (!who)
    throw new KeyFileError([`${JSON.stringify(self)} is not a principal (r<id> or c:<id>)`]);
  const verifyKeys = new Map<Principal, Uint8Array>();
  for (const r of keys.replicas) verifyKeys.set(`r${r.id}`, r.publicKey);

  if (who.type === "client") {
    let clientKey: Uint8Array;
    if (keys.kind === "client") {
      if (keys.clientId !== who.id) {
        throw new KeyFileError([`this client key file belongs to c:${keys.clientId}, not ${self}`]);
      }
      clientKey = keys.clientKey;
    } else {
      clientKey = deriveClientKey(keys.clientSecret, who.id);
    }
    return {
      self,
      macKeys: new Map(),
      deriveMacKey: (peer) => (parsePrincipal(peer)?.type === "replica" ? clientKey : undefined),
      verifyKeys,
    };
  }

  if (keys.kind === "client") {
    throw new KeyFileError([`a client key file holds no keys for replica ${self}`]);
  }
  const me = keys.replicas.find((r) => r.id === who.id);
  if (!me) throw new KeyFileError([`replica ${who.id} is not in the key file`]);
  if (keys.kind === "replica" && keys.self !== who.id) {
    throw new KeyFileError([`this replica key file belongs to r${keys.self}, not ${self}`]);
  }
  const macKeys = new Map<Principal, Uint8Array>();
  for (const r of keys.replicas) {
    if (r.id === who.id) continue;
    const key =
      keys.kind === "cluster"
        ? derivePairKey(keys.clusterSecret, who.id, r.id)
        : keys.pairKeys.get(r.id);
    if (key) macKeys.set(`r${r.id}`, key);
  }
  const clientSecret = keys.clientSecret;
  // Bounded cache by (client, version): a rotation changes the version, so no stale key is used.
  const derived = new Map<string, Uint8Array>();
  const ring: KeyRing = {
    self,
    macKeys,
    deriveMacKey: (peer) => {
      const p = parsePrincipal(peer);
      if (p?.type !== "client") return undefined;
      const version = clientKeys(p.id);
      if (version === undefined) return undefined;
      const slot = `${p.id} ${version}`;
      let key = derived.get(slot);
      if (!key) {
        key = deriveClientKey(clientSecret, p.id, version);
        if (derived.size >= 10_000) derived.clear();
        derived.set(slot, key);
      }
      return key;
    },
    deriveRetiredMacKeys: (peer) => {
      const p = parsePrincipal(peer);
      if (p?.type !== "client") return [];
      return retiredKeys(p.id).map((version) => deriveClientKey(clientSecret, p.id, version));
    },
    verifyKeys,
  };
  return me.privateKey ? { ...ring, signingKey: me.privateKey } : ring;
}

// ---------------------------------------------------------------- JSON form

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");

function replicasToJson(replicas: readonly ReplicaKeyPair[]): unknown[] {
  return replicas.map((r) =>
    r.privateKey
      ? { id: r.id, publicKey: b64(r.publicKey), privateKey: b64(r.privateKey) }
      : { id: r.id, publicKey: b64(r.publicKey) },
  );
}

/** The JSON text of a key file (secrets in hex, DER keys in base64). */
export function formatKeyFile(keys: KeyFile): string {
  let json: Record<string, unknown>;
  switch (keys.kind) {
    case "cluster":
      json = {
        lockstep: "cluster-keys",
        version: keyFileVersion,
        clusterSecret: hex(keys.clusterSecret),
        clientSecret: hex(keys.clientSecret),
        replicas: replicasToJson(keys.replicas),
      };
      break;
    case "replica":
      json = {
        lockstep: "replica-keys",
        version: keyFileVersion,
        self: keys.self,
        pairKeys: Object.fromEntries([...keys.pairKeys].map(([id, k]) => [String(id), hex(k)])),
        clientSecret: hex(keys.clientSecret),
        replicas: replicasToJson(keys.replicas),
      };
      break;
    case "client":
      json = {
        lockstep: "client-key",
        version: keyFileVersion,
        clientId: keys.clientId,
        clientKey: hex(keys.clientKey),
        ...(keys.keyVersion ? { keyVersion: keys.keyVersion } : {}),
        replicas: replicasToJson(keys.replicas),
      };
      break;
  }
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** Writes a key file readable by its owner only (mode 0600), atomically (temp file + rename). */
export function writeKeyFile(path: string, keys: KeyFile): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, formatKeyFile(keys), { mode: 0o600, flag: "wx" });
    chmodSync(temp, 0o600);
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // nothing to clean up
    }
    throw error;
  }
}

export interface ReadKeyFileOptions {
  /** Refuse a file that users other than its owner may read (default true, POSIX only). */
  readonly checkMode?: boolean;
}

/** Reads and validates a key file; a KeyFileError names every bad field. */
export function readKeyFile(path: string, options: ReadKeyFileOptions = {}): KeyFile {
  const problems: string[] = [];
  if ((options.checkMode ?? true) && process.platform !== "win32") {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      problems.push(
        `file mode ${mode.toString(8)} lets other users read the secrets: run chmod 600 ${path}`,
      );
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new KeyFileError([...problems, `not JSON: ${(error as Error).message}`]);
  }
  try {
    const keys = parseKeyFile(raw);
    if (problems.length > 0) throw new KeyFileError(problems);
    return keys;
  } catch (error) {
    if (error instanceof KeyFileError) throw new KeyFileError([...problems, ...error.problems]);
    throw error;
  }
}

/** Validates parsed JSON as a key file; a KeyFileError names every bad field. */
export function parseKeyFile(raw: unknown): KeyFile {
  const problems: string[] = [];
  if (!isPlainObject(raw)) throw new KeyFileError(["key file must be a JSON object"]);
  const kinds: Record<string, KeyFile["kind"]> = {
    "cluster-keys": "cluster",
    "replica-keys": "replica",
    "client-key": "client",
  };
  const kind = typeof raw.lockstep === "string" ? kinds[raw.lockstep] : undefined;
  if (!kind) {
    throw new KeyFileError([
      `lockstep: expected "cluster-keys", "replica-keys" or "client-key", got ${JSON.stringify(raw.lockstep)}`,
    ]);
  }
  const fields: Record<KeyFile["kind"], string[]> = {
    cluster: ["lockstep", "version", "clusterSecret", "clientSecret", "replicas"],
    replica: ["lockstep", "version", "self", "pairKeys", "clientSecret", "replicas"],
    client: ["lockstep", "version", "clientId", "clientKey", "keyVersion", "replicas"],
  };
  for (const key of Object.keys(raw)) {
    if (!fields[kind].includes(key)) problems.push(`${key}: unknown field`);
  }
  if (raw.version !== keyFileVersion) {
    problems.push(`version: expected ${keyFileVersion}, got ${JSON.stringify(raw.version)}`);
  }
  const secret = (name: string, x: unknown): Uint8Array => {
    if (typeof x !== "string" || !/^[0-9a-f]{64}$/i.test(x)) {
      problems.push(`${name}: expected ${secretBytes} bytes as 64 hex digits`);
      return new Uint8Array(0);
    }
    return new Uint8Array(Buffer.from(x, "hex"));
  };
  const replicas = parseReplicas(raw.replicas, problems);
  const ids = new Set(replicas.map((r) => r.id));

  let keys: KeyFile;
  switch (kind) {
    case "cluster": {
      keys = {
        kind,
        clusterSecret: secret("clusterSecret", raw.clusterSecret),
        clientSecret: secret("clientSecret", raw.clientSecret),
        replicas,
      };
      break;
    }
    case "replica": {
      const self = raw.self;
      if (typeof self !== "number" || !ids.has(self)) {
        problems.push(
          `self: expected the id of a replica listed in replicas, got ${JSON.stringify(self)}`,
        );
      }
      const pairKeys = new Map<ReplicaId, Uint8Array>();
      if (!isPlainObject(raw.pairKeys)) {
        problems.push("pairKeys: expected an object from replica id to 64 hex digits");
      } else {
        for (const [id, k] of Object.entries(raw.pairKeys)) {
          const n = Number(id);
          if (!ids.has(n) || String(n) !== id || n === self) {
            problems.push(`pairKeys.${id}: not another replica listed in replicas`);
            continue;
          }
          pairKeys.set(n, secret(`pairKeys.${id}`, k));
        }
        for (const id of ids) {
          if (id !== self && !pairKeys.has(id)) problems.push(`pairKeys.${id}: missing`);
        }
      }
      for (const r of replicas) {
        if (r.privateKey && r.id !== self) {
          problems.push(
            `replicas[${r.id}].privateKey: a replica file holds only its own private key`,
          );
        }
      }
      keys = {
        kind,
        self: self as number,
        pairKeys,
        clientSecret: secret("clientSecret", raw.clientSecret),
        replicas,
      };
      break;
    }
    case "client": {
      const clientId = raw.clientId;
      if (typeof clientId !== "string") {
        problems.push(`clientId: expected a string, got ${JSON.stringify(clientId)}`);
      } else {
        const problem = clientIdProblem(clientId);
        if (problem !== undefined) problems.push(`clientId: ${problem}`);
      }
      for (const r of replicas) {
        if (r.privateKey)
          problems.push(`replicas[${r.id}].privateKey: a client file holds no private keys`);
      }
      const keyVersion = raw.keyVersion ?? 0;
      if (typeof keyVersion !== "number" || !Number.isSafeInteger(keyVersion) || keyVersion < 0)
        problems.push(`keyVersion: expected an integer ≥ 0, got ${JSON.stringify(raw.keyVersion)}`);
      keys = {
        kind,
        clientId: clientId as string,
        clientKey: secret("clientKey", raw.clientKey),
        ...(keyVersion === 0 ? {} : { keyVersion: keyVersion as number }),
        replicas,
      };
      break;
    }
  }
  if (problems.length > 0) throw new KeyFileError(problems);
  return keys;
}

function parseReplicas(raw: unknown, problems: string[]): ReplicaKeyPair[] {
  if (!Array.isArray(raw)) {
    problems.push("replicas: expected an array");
    return [];
  }
  const out: ReplicaKeyPair[] = [];
  raw.forEach((r: unknown, i: number) => {
    const at = `replicas[${i}]`;
    if (!isPlainObject(r)) {
      problems.push(`${at}: expected an object`);
      return;
    }
    for (const key of Object.keys(r)) {
      if (!["id", "publicKey", "privateKey"].includes(key))
        problems.push(`${at}.${key}: unknown field`);
    }
    if (r.id !== i)
      problems.push(
        `${at}.id: expected ${i} (ids are positions 0..n-1), got ${JSON.stringify(r.id)}`,
      );
    const der = (name: string, x: unknown, size: number): Uint8Array | undefined => {
      if (typeof x !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(x)) {
        problems.push(`${at}.${name}: expected base64 DER`);
        return undefined;
      }
      const bytes = new Uint8Array(Buffer.from(x, "base64"));
      if (bytes.length !== size) {
        problems.push(
          `${at}.${name}: expected an Ed25519 key of ${size} DER bytes, got ${bytes.length}`,
        );
        return undefined;
      }
      return bytes;
    };
    // Ed25519: SPKI DER is 44 bytes, PKCS#8 DER 48 bytes.
    let publicKey = der("publicKey", r.publicKey, 44) ?? new Uint8Array(0);
    if (publicKey.length > 0 && !isEd25519PublicKey(publicKey)) {
      problems.push(`${at}.publicKey: not an Ed25519 public key`);
      publicKey = new Uint8Array(0);
    }
    const privateKey = r.privateKey === undefined ? undefined : der("privateKey", r.privateKey, 48);
    if (privateKey && publicKey.length > 0 && !keyPairMatches(privateKey, publicKey)) {
      problems.push(`${at}.privateKey: not an Ed25519 key matching publicKey`);
    }
    out.push(privateKey ? { id: i, publicKey, privateKey } : { id: i, publicKey });
  });
  return out;
}

function keyPairMatches(privateKey: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    const key = createPrivateKey({ key: Buffer.from(privateKey), format: "der", type: "pkcs8" });
    if (key.asymmetricKeyType !== "ed25519") return false;
    const derived = createPublicKey(key).export({ format: "der", type: "spki" });
    return Buffer.from(derived).equals(Buffer.from(publicKey));
  } catch {
    return false;
  }
}

function isEd25519PublicKey(publicKey: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(publicKey), format: "der", type: "spki" });
    return key.asymmetricKeyType === "ed25519";
  } catch {
    return false;
  }
}
