import { isPlainObject } from "../core/schema.js";
import { type KeyFile, KeyFileError, parseKeyFile } from "../net/keys.js";

/**
 * The `keys` a caller handed to connect(), as a KeyFile. readKeyFile(path) gives one; a plain
 * JavaScript caller may instead pass the file's JSON as parsed (secrets still base64 strings),
 * which is accepted and checked like the file itself. Anything else fails here with a line that
 * says what to pass, not later inside a key derivation with a TypeError.
 */
export function connectKeys(keys: unknown): KeyFile {
  if (isPlainObject(keys) && typeof keys.lockstep === "string") return parseKeyFile(keys);
  if (typeof keys !== "object" || keys === null) {
    throw new KeyFileError([`keys: expected readKeyFile(path), got ${describe(keys)}`]);
  }
  const k = keys as Partial<Record<string, unknown>>;
  const bytes: Record<string, readonly string[]> = {
    cluster: ["clusterSecret", "clientSecret"],
    replica: ["clientSecret"],
    client: ["clientKey"],
  };
  const wanted = typeof k.kind === "string" ? bytes[k.kind] : undefined;
  if (!wanted) {
    throw new KeyFileError([
      `keys: expected readKeyFile(path) (kind "cluster", "replica" or "client"), got kind ${describe(k.kind)}`,
    ]);
  }
  const problems = wanted
    .filter((field) => !(k[field] instanceof Uint8Array))
    .map(
      (field) => `keys.${field}: expected bytes (use readKeyFile(path)), got ${describe(k[field])}`,
    );
  if (!Array.isArray(k.replicas))
    problems.push(`keys.replicas: expected an array, got ${describe(k.replicas)}`);
  if (problems.length > 0) throw new KeyFileError(problems);
  return keys as KeyFile;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Uint8Array) return "bytes";
  return typeof v === "string" ? "a string" : typeof v;
}
