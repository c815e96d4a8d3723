import { Packr } from "msgpackr";
import { type Schema, SchemaError, value } from "./schema.js";
import type { Value } from "./value.js";

/**
 * MessagePack encoding of values and messages. Decoding never trusts its input: bytes that are
 * not MessagePack, or that decode to something the schema rejects, raise a DecodeError.
 */
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: "number",
  copyBuffers: true,
  moreTypes: false,
  structuredClone: false,
});

export class DecodeError extends Error {
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(message);
    this.name = "DecodeError";
  }
}

export function encode(message: unknown): Uint8Array {
  return packr.pack(message);
}

const anyValue = value();

/** Decodes bytes and checks them against `schema` (any Value by default). */
export function decode<T = Value>(bytes: Uint8Array, schema?: Schema<T>): T {
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch (error) {
    throw new DecodeError(`not MessagePack: ${(error as Error).message}`);
  }
  try {
    return (schema ?? (anyValue as unknown as Schema<T>)).parse(raw);
  } catch (error) {
    if (error instanceof SchemaError) throw new DecodeError(error.message, error.path);
    throw new DecodeError(`invalid message: ${(error as Error).message}`);
  }
}

/** Encodes a value with object keys sorted, so equal values give equal bytes (for digests). */
export function encodeCanonical(v: Value): Uint8Array {
  return packr.pack(canonicalize(v));
}

function canonicalize(v: Value): Value {
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(canonicalize);
  const out: Record<string, Value> = {};
  for (const key of Object.keys(v).sort())
    out[key] = canonicalize((v as Record<string, Value>)[key]!);
  return out;
}
