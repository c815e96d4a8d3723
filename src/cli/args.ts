import { parseArgs } from "node:util";
import { describeParseError } from "../runtime/arg-errors.js";

/** A command-line mistake: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type OptionSpec = Record<
  string,
  { type: "string" | "boolean"; short?: string; default?: string | boolean }
>;

export function parseCommandArgs(
  command: string,
  argv: readonly string[],
  spec: OptionSpec,
): Record<string, string | boolean | undefined> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: spec,
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0)
      throw new UsageError(
        `${command}: unexpected argument "${positionals[0]}" (see lockstep ${command} --help)`,
      );
    return values as Record<string, string | boolean | undefined>;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `${command}: ${describeParseError(error)} (see lockstep ${command} --help)`,
    );
  }
}

export function intOption(
  command: string,
  name: string,
  raw: string | boolean | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const text = String(raw);
  if (!/^-?\d+$/.test(text))
    throw new UsageError(`${command}: --${name} expects an integer, got "${text}"`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${command}: --${name} must be from ${min} to ${max}, got ${text}`);
  }
  return n;
}

export function numberOption(
  command: string,
  name: string,
  raw: string | boolean | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const text = String(raw);
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(
      `${command}: --${name} must be a number from ${min} to ${max}, got "${text}"`,
    );
  }
  return n;
}
