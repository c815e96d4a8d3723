import { type Schema, SchemaError, value } from "./schema.js";
import type { Value } from "./value.js";

/**
 * MessagePack encoding of values and messages. Decoding never trusts its input: bytes that are
 * not MessagePack, or that decode to something the schema rejects, raise a DecodeError.
 *
 * Core stays free of platform code: it declares what it needs of a MessagePack implementation
 * (MessagePacker) and the platform layer installs one (src/platform/codec.ts, msgpackr), which
 * the simulator, the runtime and the client load before they encode anything.
 */
export interface MessagePacker {
  pack(message: unknown): Uint8Array;
  /** Throws on bytes that are not MessagePack. */
  unpack(bytes: Uint8Array): unknown;
}

let packer: MessagePacker | undefined;

/** Called once by the platform layer; later calls replace the implementation. */
export function installMessagePacker(implementation: MessagePacker): void {
  packer = implementation;
}

function installedPacker(): MessagePacker {
  if (packer === undefined) {
    throw new Error(
      "no MessagePack implementation installed: import src/platform/codec.js (the simulator, runtime and client do)",
    );
  }
  return packer;
}

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
  return installedPacker().pack(message);
}

const anyValue = value();

/** Decodes bytes and checks them against `schema` (any Value by default). */
export function decode<T = Value>(bytes: Uint8Array, schema?: Schema<T>): T {
  const implementation = installedPacker();
  let raw: unknown;
  try {
    raw = implementation.unpack(bytes);
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
  return installedPacker().pack(canonicalize(v));
}

function canonicalize(v: Value): Value {
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(canonicalize);
  const out: Record<string, Value> = {};
  for (const key of Object.keys(v).sort())
    out[key] = canonicalize((v as Record<string, Value>)[key]!);
  return out;
}
