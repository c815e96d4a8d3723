import type { JsonValue } from "./trace-format.js";

/**
 * A copy of a protocol value that JSON can carry: bytes become "<N bytes>" (their content is
 * noise in a diagram), anything that is not a Value (undefined, functions, bigints) becomes a
 * short string. Depth is bounded so a deep structure cannot blow up the trace.
 */
export function jsonSafe(value: unknown, depth = 0): JsonValue {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (value === undefined) return null;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (typeof value === "bigint") return value.toString();
  if (typeof value !== "object") return `<${typeof value}>`;
  if (depth >= 6) return "…";
  if (Array.isArray(value)) return value.map((item) => jsonSafe(item, depth + 1));
  const out: { [key: string]: JsonValue } = {};
  for (const [key, item] of Object.entries(value)) out[key] = jsonSafe(item, depth + 1);
  return out;
}

/** A one-line JSON rendering of a value, cut to `max` characters. */
export function shortJson(value: unknown, max = 160): string {
  const text = JSON.stringify(jsonSafe(value)) ?? "null";
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The `type` field of a protocol message, which names its kind in every protocol here. */
export function messageKind(msg: unknown): string {
  if (typeof msg === "object" && msg !== null && "type" in msg) {
    const type = (msg as { type: unknown }).type;
    if (typeof type === "string") return type;
  }
  return "?";
}
