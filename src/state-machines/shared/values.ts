import { isPlainObject } from "../../core/schema.js";
import type { Value } from "../../core/value.js";

/** Array.isArray narrows to any[]; this keeps the element type. */
export function isValueArray(v: Value | undefined): v is readonly Value[] {
  return Array.isArray(v);
}

export function isValueRecord(v: Value | undefined): v is { readonly [key: string]: Value } {
  return isPlainObject(v);
}

/**
 * Structural equality of codec values. Models compare the result they predict with the one a
 * client observed; both are small plain objects, and key order must not matter (an output that
 * went through the codec may come back with its fields in another order).
 */
export function valueEquals(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a !== "object" || typeof b !== "object") return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length)
      return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (isValueArray(a) || isValueArray(b)) {
    if (!(isValueArray(a) && isValueArray(b)) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valueEquals(a[i], b[i])) return false;
    return true;
  }
  if (!isValueRecord(a) || !isValueRecord(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key) || !valueEquals(a[key], b[key])) return false;
  }
  return true;
}

/** A short, one-line rendering of a value for error messages and counterexamples. */
export function preview(v: Value | undefined, max = 40): string {
  if (v === undefined) return "nothing";
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  const text = JSON.stringify(v) ?? String(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What kind of value this is, for "must be a string, got number" messages. */
export function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (v instanceof Uint8Array) return "bytes";
  if (Array.isArray(v)) return "array";
  return typeof v;
}
