import type { Value } from "../../core/value.js";

export interface SingleSettings {
  /** Take a snapshot every this many entries (0: never). */
  readonly snapshotEvery: number;
  /** Most commands folded into one log entry. */
  readonly maxBatchCommands: number;
}

export const defaultSingleSettings: SingleSettings = {
  snapshotEvery: 10_000,
  maxBatchCommands: 256,
};

/** Reads the `single` protocol's settings, naming every bad field. */
export function parseSingleSettings(settings: { readonly [key: string]: Value }): SingleSettings {
  const problems: string[] = [];
  const out: Record<string, number> = { ...defaultSingleSettings };
  for (const [key, v] of Object.entries(settings)) {
    if (!Object.hasOwn(defaultSingleSettings, key)) {
      problems.push(`settings.${key}: unknown setting for protocol single`);
    } else if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      problems.push(`settings.${key}: expected a non-negative integer, got ${JSON.stringify(v)}`);
    } else {
      out[key] = v;
    }
  }
  if (out.maxBatchCommands === 0) problems.push("settings.maxBatchCommands: must be at least 1");
  if (problems.length > 0) throw new Error(problems.join("; "));
  return out as unknown as SingleSettings;
}
