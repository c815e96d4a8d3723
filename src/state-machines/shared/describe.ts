import type { Value } from "../../core/value.js";
import { preview } from "./values.js";

/** Identifiers print bare (`k1`), anything else quoted, so counterexamples stay readable. */
export function showName(name: string): string {
  return /^[\w.:-]{1,32}$/.test(name) ? name : preview(name, 34);
}

/** A string for a counterexample, quoted and cut short (values may be a megabyte). */
export function showText(text: string | null): string {
  return text === null ? "null" : preview(text, 26);
}

/** The right-hand side of `op -> result` for an output the describer does not understand. */
export function showOutput(output: Value | undefined): string {
  return output === undefined ? "?" : preview(output, 60);
}
